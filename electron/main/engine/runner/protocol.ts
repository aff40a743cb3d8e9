// The wire protocol between the host and the in-container runner (resources/runner/
// loom_runner.py and loom-runner.js). The runner is a pooled container's main process, attached
// to (stdin, stdout, stderr; Tty false), or, in a container that idles, started once over one
// attached exec; it runs one program at a time for the host.
//
// Every message, in both directions, is one binary frame:
//
//   [type u8][execution id u32 big-endian][payload length u32 big-endian][payload]
//
// Host → runner, on the runner's stdin (raw bytes: Docker does not frame stdin):
//   RUN        0x01  JSON RunRequest {argv, env, cwd, timeoutMs, spanFile?}: start a program.
//                    `env` is the whole environment of the program (nothing is inherited from
//                    the runner).
//   STDIN      0x02  bytes for the program's stdin (the host sends at most MAX_CHUNK a frame)
//   STDIN_EOF  0x03  (empty) close the program's stdin once everything before it is written
//   KILL       0x04  (empty) SIGKILL the program's whole process group now
//   HELLO      0x05  (empty, id 0) say READY again: a host attached to a runner that is the
//                    container's main process, which outlives each host's stream
//   PING       0x06  u32 BE silenceMs, id 0: the host is alive. Until the next HELLO, a program
//                    that runs while nothing has come from the host for silenceMs is killed (as
//                    by KILL): its host died without closing the stream, which the runner cannot
//                    see otherwise when it is the container's main process. 0: no such limit.
//
// Runner → host, on the runner's stdout, which Docker multiplexes into its own frames (so one
// runner frame can be split across Docker frames and reads: the host reassembles):
//   READY      0x81  JSON ReadyInfo, execution id 0, at start and after each HELLO: the runner serves
//   STARTED    0x82  JSON {pid}: the program runs (sent before any of its output)
//   STDOUT     0x83  bytes of the program's stdout, forwarded as they arrive, ≤ MAX_CHUNK a frame
//   STDERR     0x84  bytes of the program's stderr, likewise
//   EXIT       0x85  JSON ExitInfo: the program (and its process group) is gone; last frame of
//                    that execution
//   ERROR      0x86  JSON {message, code}: the request could not be run (no STARTED, no EXIT)
//   SPANS      0x87  bytes appended to the RUN's spanFile, read every ~20 ms while the program
//                    runs and once more after it ends (before EXIT; the file is then removed).
//                    The bytes are the program's: the host splits and validates the records.
//
// Within one execution the order is: STARTED, any STDOUT/STDERR/SPANS, EXIT; or only ERROR. Output of
// each stream arrives in order; the relative order of stdout and stderr is the order the runner
// read them in. The runner's own stderr (Docker's stderr stream) carries only its diagnostics.
// Frames for an execution id that is not the current one are ignored by the runner.

export const FrameType = {
  RUN: 0x01,
  STDIN: 0x02,
  STDIN_EOF: 0x03,
  KILL: 0x04,
  HELLO: 0x05,
  PING: 0x06,
  READY: 0x81,
  STARTED: 0x82,
  STDOUT: 0x83,
  STDERR: 0x84,
  EXIT: 0x85,
  ERROR: 0x86,
  SPANS: 0x87,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Bumped on any incompatible change; READY carries it, and the client refuses another one. */
export const PROTOCOL_VERSION = 3;
export const HEADER_SIZE = 9;
/** The largest STDIN/STDOUT/STDERR payload either side sends in one frame. */
export const MAX_CHUNK = 64 * 1024;
/**
 * The largest payload either side accepts. A RUN carries argv and the whole environment, which
 * stay far below this; anything bigger means the stream is out of step and cannot be trusted.
 */
export const MAX_PAYLOAD = 16 * 1024 * 1024;

export interface RunRequest {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** 0: no deadline. The runner SIGKILLs the process group at the deadline. */
  timeoutMs: number;
  /** The file the program's trace library appends span records to: followed, sent as SPANS. */
  spanFile?: string;
}

export interface ReadyInfo {
  runner: 'python' | 'node';
  /** The runner's pid inside the container. */
  pid: number;
  /** Its start time in clock ticks (/proc/PID/stat): with the pid, what tells it from a later process. */
  start: number;
  /** PROTOCOL_VERSION of the runner. */
  version: number;
  /** The interpreter's own version string (sys.version, process.version). */
  interpreter: string;
  /**
   * The runner's environment, which is what `docker exec` gives a program without Env: the
   * image's environment plus the container's. A program's full env is this plus its own.
   */
  env: Record<string, string>;
  /** Whether the runner cleans the container after each run (false: a session's, --keep-state). */
  clean: boolean;
  /**
   * Whether the runner made itself undumpable. A dumpable runner could be read and changed by a
   * program (same user): its container must then serve one run only.
   */
  undumpable: boolean;
}

export interface StartedInfo {
  pid: number;
}

export interface ExitInfo {
  /** The exit status, or 128 + the signal number when a signal ended the program (as a shell does). */
  exitCode: number;
  /** The signal's name (SIGKILL) when one ended the program, else null. */
  signal: string | null;
  timedOut: boolean;
  /** From the program's start to its end, measured by the runner. */
  wallMs: number;
  /** User + system CPU time of the program and the children it waited for; 0 when unknown. */
  cpuMs: number;
  /** The program's peak resident set size in KiB; 0 when unknown. */
  peakRssKb: number;
  /**
   * Whether the memory cgroup's OOM killer fired during the run (the runner compares its counter
   * before and after: asked inside, it costs no docker exec, and no exec races the clean-up).
   */
  oomKilled: boolean;
}

/**
 * Why a request was refused. not_found / not_executable: argv[0] is missing or cannot be run
 * (what `docker exec` reports as exit 127 / 126); bad_cwd: cwd is not a directory; busy: another
 * execution is running; bad_request: the RUN payload is malformed; exhausted: a previous
 * program filled the writable space; unclean: the clean-up after the last run failed, so the
 * container must not be reused; spawn_failed: anything else.
 */
export type ErrorCode = 'not_found' | 'not_executable' | 'bad_cwd' | 'busy' | 'bad_request' | 'spawn_failed' | 'exhausted' | 'unclean';

export interface ErrorInfo {
  message: string;
  code: ErrorCode;
}

export interface Frame {
  type: number;
  id: number;
  payload: Buffer;
}

/** A PING frame (see above): the host is alive, and may stay silent for `silenceMs`. */
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
  return { pid: num(parseJson(payload, 'STARTED').pid) };
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
  };
}

const ERROR_CODES: readonly ErrorCode[] = ['not_found', 'not_executable', 'bad_cwd', 'busy', 'bad_request', 'spawn_failed', 'exhausted', 'unclean'];

export function decodeError(payload: Buffer): ErrorInfo {
  const v = parseJson(payload, 'ERROR');
  const code = ERROR_CODES.find((c) => c === v.code) ?? 'spawn_failed';
  return { message: String(v.message ?? 'the runner could not run the request'), code };
}
