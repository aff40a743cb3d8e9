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

export function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** toJson(ExecuteEventSchema, event), the same JSON, faster for output chunks. */
export function executeEventJson(event: ExecuteEvent): ExecuteEventJson {
  const e = event.event;
  // A oneof member is present even when empty, so an empty chunk is "" as toJson has it.
  if (e.case === 'stdout') return { stdout: base64Of(e.value) };
  if (e.case === 'stderr') return { stderr: base64Of(e.value) };
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
