// What `loom exec --json` prints for a run: the ExecuteResponse in proto3 JSON, the form the app
// stores (enum names like SPAN_STATUS_OK, 64-bit integers as decimal strings), with one change:
// stdout and stderr as UTF-8 text rather than base64, since a person or a script reads them.
import { toJson } from '@bufbuild/protobuf';
import { ExecuteResponseSchema, type ExecuteResponse, type ExecuteResponseJson } from '../../../shared/gen/loom/v1/docker_pb';

export function responseJson(response: ExecuteResponse): ExecuteResponseJson {
  // Every field present, false and 0 included: a script reads `timedOut` without a default.
  // protobuf-es types only the default output; this one has the same shape with no key left out.
  const json = toJson(ExecuteResponseSchema, response, { alwaysEmitImplicit: true }) as ExecuteResponseJson;
  return { ...json, stdout: utf8(response.stdout), stderr: utf8(response.stderr) };
}

/** Invalid UTF-8 (a program's binary output) becomes U+FFFD, as it does in the app. */
function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
