// Proto3 JSON of the messages that carry a program's output, with their bytes encoded by Node.
// protobuf-es encodes bytes to base64 one character at a time by string concatenation when the
// runtime has no Uint8Array.prototype.toBase64 (Node 20 has none): a 1 MB chunk becomes about
// 1.4 million string pieces, and a flood of output spent most of the host's time collecting
// them (16 of 21 s of CPU for 50 MB). Buffer's encoder is native and gives the same text.
import { create, toJson } from '@bufbuild/protobuf';
import {
  ExecuteEventSchema,
  ExecuteResponseSchema,
  type ExecuteEvent,
  type ExecuteEventJson,
  type ExecuteResponse,
  type ExecuteResponseJson,
} from '../../../shared/gen/loom/v1/docker_pb';

const EMPTY = new Uint8Array();

/**
 * The bytes behind each output chunk's JSON made here, for a transport that sends bytes (the
 * browser host's binary frames): it need not decode the base64 again. Weak: the JSON owns them.
 */
const outputBytes = new WeakMap<ExecuteEventJson, Uint8Array>();

/** The bytes of an output chunk's JSON that executeEventJson made, or undefined. */
export function outputBytesOf(json: ExecuteEventJson): Uint8Array | undefined {
  return outputBytes.get(json);
}

export function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** toJson(ExecuteEventSchema, event), the same JSON, faster for output chunks. */
export function executeEventJson(event: ExecuteEvent): ExecuteEventJson {
  const e = event.event;
  // A oneof member is present even when empty, so an empty chunk is "" as toJson has it.
  if (e.case === 'stdout' || e.case === 'stderr') {
    const bytes = e.value;
    const json: ExecuteEventJson = {};
    // The base64 is made when first read (JSON.stringify, Electron's IPC serializer and
    // structuredClone all read it), once: the browser host sends these bytes as they are, and
    // Node 20's encoder took ~1.3 s of CPU for a 200 MB flood nobody read as base64.
    let base64: string | undefined;
    Object.defineProperty(json, e.case, { enumerable: true, configurable: true, get: () => (base64 ??= base64Of(bytes)) });
    outputBytes.set(json, bytes);
    return json;
  }
  if (e.case === 'done') return { done: executeResponseJson(e.value) };
  return toJson(ExecuteEventSchema, event);
}

/** toJson(ExecuteResponseSchema, response), the same JSON, faster for megabytes of output. */
export function executeResponseJson(response: ExecuteResponse): ExecuteResponseJson {
  if (response.stdout.length === 0 && response.stderr.length === 0) return toJson(ExecuteResponseSchema, response);
  const json = toJson(ExecuteResponseSchema, create(ExecuteResponseSchema, { ...response, stdout: EMPTY, stderr: EMPTY }));
  // Plain bytes fields: left out when empty, as toJson does.
  if (response.stdout.length > 0) json.stdout = base64Of(response.stdout);
  if (response.stderr.length > 0) json.stderr = base64Of(response.stderr);
  return json;
}
