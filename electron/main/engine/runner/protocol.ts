// Encoding and decoding the runner protocol's frames. What the frames, their payloads and the
// limits are is in protocol.json, the one source for the host and both runners; its constants and
// payload types are generated into protocol.gen.ts (npm run gen) and re-exported here.
import { ERROR_CODES, FrameType, HEADER_SIZE, MAX_PAYLOAD, type CompiledInfo, type ErrorCode, type ErrorInfo, type ExitInfo, type ReadyInfo, type StartedInfo } from './protocol.gen';

export * from './protocol.gen';

/** The languages a RUN's source may be in. */
export type SourceLanguage = NonNullable<import('./protocol.gen').RunRequest['language']>;

export interface Frame {
  type: number;
  id: number;
  payload: Buffer;
}

/** A PING frame: the host is alive, and may stay silent for `silenceMs`. */
export function encodePing(silenceMs: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(silenceMs, 0);
  return encodeFrame(FrameType.PING, 0, payload);
}

export function encodeFrame(type: FrameType, id: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(id >>> 0, 1);
  frame.writeUInt32BE(payload.length, 5);
  frame.set(payload, HEADER_SIZE);
  return frame;
}

export function encodeJsonFrame(type: FrameType, id: number, body: unknown): Buffer {
  return encodeFrame(type, id, Buffer.from(JSON.stringify(body), 'utf8'));
}

/** The stream cannot be parsed any further (a length past MAX_PAYLOAD). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/**
 * Reassembles frames from arbitrary pieces of the byte stream: a frame may arrive split across
 * any number of pushes, and one push may hold many frames.
 */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  push(data: Buffer): void {
    if (!data.length) return;
    this.chunks.push(data);
    this.buffered += data.length;
    for (;;) {
      if (this.buffered < HEADER_SIZE) return;
      const head = this.peek(HEADER_SIZE);
      const length = head.readUInt32BE(5);
      if (length > MAX_PAYLOAD) throw new ProtocolError(`frame of ${length} bytes: the stream is out of step`);
      if (this.buffered < HEADER_SIZE + length) return;
      const whole = this.take(HEADER_SIZE + length);
      this.onFrame({ type: whole.readUInt8(0), id: whole.readUInt32BE(1), payload: whole.subarray(HEADER_SIZE) });
    }
  }

  /** The first `n` bytes, joining chunks only as far as needed (a 10 MB output is not re-copied per read). */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const head = this.peek(n);
    const first = this.chunks[0] as Buffer;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return head;
  }
}

// Payload decoding: the runner is code we ship, but it runs in a container whose user can kill
// or impersonate it, so nothing it sends is trusted to have the right shape.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ProtocolError(`${what}: payload is not JSON`);
  }
  if (!isRecord(value)) throw new ProtocolError(`${what}: payload is not an object`);
  return value;
}

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

export function decodeReady(payload: Buffer): ReadyInfo {
  const v = parseJson(payload, 'READY');
  if (v.runner !== 'python' && v.runner !== 'node') throw new ProtocolError('READY: unknown runner');
  const env: Record<string, string> = {};
  if (isRecord(v.env)) for (const [k, val] of Object.entries(v.env)) if (typeof val === 'string') env[k] = val;
  return {
    runner: v.runner,
    pid: num(v.pid),
    start: num(v.start, -1),
    version: num(v.version),
    interpreter: String(v.interpreter ?? ''),
    env,
    clean: v.clean === true,
    undumpable: v.undumpable === true,
  };
}

export function decodeStarted(payload: Buffer): StartedInfo {
  const v = parseJson(payload, 'STARTED');
  return { pid: num(v.pid), compiling: v.compiling === true };
}

export function decodeCompiled(payload: Buffer): CompiledInfo {
  return { compileMs: num(parseJson(payload, 'COMPILED').compileMs) };
}

export function decodeExit(payload: Buffer): ExitInfo {
  const v = parseJson(payload, 'EXIT');
  return {
    exitCode: num(v.exitCode, -1),
    signal: typeof v.signal === 'string' ? v.signal : null,
    timedOut: v.timedOut === true,
    wallMs: num(v.wallMs),
    cpuMs: num(v.cpuMs),
    peakRssKb: num(v.peakRssKb),
    oomKilled: v.oomKilled === true,
    ...faultsOf(v),
    compileError: v.compileError === true,
    compileMs: num(v.compileMs),
    compileCached: v.compileCached === true,
  };
}

/** The page-fault counts of an EXIT, each only when the runner sent it (older runners do not). */
function faultsOf(v: Record<string, unknown>): Pick<ExitInfo, 'minorFaults' | 'majorFaults' | 'runnerFaults'> {
  const out: Pick<ExitInfo, 'minorFaults' | 'majorFaults' | 'runnerFaults'> = {};
  for (const key of ['minorFaults', 'majorFaults', 'runnerFaults'] as const) {
    const n = v[key];
    if (typeof n === 'number' && Number.isFinite(n) && n >= 0) out[key] = n;
  }
  return out;
}

export function decodeError(payload: Buffer): ErrorInfo {
  const v = parseJson(payload, 'ERROR');
  const code: ErrorCode = ERROR_CODES.find((c) => c === v.code) ?? 'spawn_failed';
  return { message: String(v.message ?? 'the runner could not run the request'), code };
}
