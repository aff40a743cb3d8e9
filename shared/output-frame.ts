// The binary frame that carries a run's output over the browser host's WebSocket to a client
// that named OUTPUT_FRAME_PROTOCOL: one byte for the stream, one for the run id's length, the
// run id (ASCII: a UUID), then the output bytes as the program wrote them. No DOM or Node types:
// the host (Node) writes it and the page (and Node tests) read it.

export type OutputStreamName = 'stdout' | 'stderr';

const STDOUT = 1;
const STDERR = 2;
/** A run id is a UUID (36 characters); more than a byte can count is not one. */
const MAX_ID = 255;

/** The header of a frame for this run and stream; the output bytes follow it. */
export function outputFrameHeader(runId: string, stream: OutputStreamName): Uint8Array {
  if (runId.length > MAX_ID) throw new Error(`a run id of ${runId.length} characters does not fit an output frame`);
  const header = new Uint8Array(2 + runId.length);
  header[0] = stream === 'stdout' ? STDOUT : STDERR;
  header[1] = runId.length;
  for (let i = 0; i < runId.length; i++) {
    const code = runId.charCodeAt(i);
    if (code > 0x7f) throw new Error('a run id in an output frame must be ASCII');
    header[2 + i] = code;
  }
  return header;
}

/** The frame's run, stream and output (a view into `frame`, not a copy), or null if it is not one. */
export function readOutputFrame(frame: Uint8Array): { runId: string; stream: OutputStreamName; bytes: Uint8Array } | null {
  const kind = frame[0];
  const idLength = frame[1];
  if ((kind !== STDOUT && kind !== STDERR) || idLength === undefined || frame.length < 2 + idLength) return null;
  let runId = '';
  for (let i = 0; i < idLength; i++) runId += String.fromCharCode(frame[2 + i] as number);
  return { runId, stream: kind === STDOUT ? 'stdout' : 'stderr', bytes: frame.subarray(2 + idLength) };
}
