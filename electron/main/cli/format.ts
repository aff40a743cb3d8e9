// Output helpers shared by the commands: where output goes, errors as text and as JSON, tables, ages.
import { UsageError } from './args';

/** Where a command writes and reads; process's own streams in the real CLI. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

export const processIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });

export const EXIT = {
  usage: 2,
  /** The source did not compile (ExecuteResponse.compile_error): nothing ran. */
  compileError: 123,
  timedOut: 124,
  loomError: 125,
  interrupted: 130,
  /** 128 + SIGPIPE, as a shell reports a writer whose reader went away. */
  brokenPipe: 141,
} as const;

/** The reader of a pipe went away (`loom exec ... | head -1`). */
export function isBrokenPipe(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/** Writes `loom: ` before every line of a message (multi-line engine messages stay readable). */
export function note(io: Io, message: string): void {
  io.stderr.write(
    message
      .trimEnd()
      .split('\n')
      .map((line) => `loom: ${line}`)
      .join('\n') + '\n',
  );
}

export function writeJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return value;
}

/**
 * An error as a plain object: its stable `name`, its message, and the plain fields engine
 * errors carry (field/problem, address, image, installer/packages/exitCode/output, ...).
 */
export function errorObject(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  for (const [key, value] of Object.entries(err)) {
    if (key === 'cause' || key === 'stack' || key in out || value === undefined) continue;
    if (typeof value === 'function') continue;
    out[key] = value;
  }
  return out;
}

/** Reports a usage error: the message and where to find help on stderr, a JSON error on stdout when asked. */
export function reportUsage(io: Io, err: UsageError, command: string, json: boolean): number {
  if (json) writeJson(io, { error: errorObject(err) });
  io.stderr.write(`${command}: ${err.message}\nRun '${command} --help' for usage.\n`);
  return EXIT.usage;
}

/** Reports an error from the engine (or anything unexpected) as exit status 125. */
export function reportLoomError(io: Io, err: unknown, json: boolean): number {
  if (json) writeJson(io, { error: errorObject(err) });
  const message = err instanceof Error ? err.message : String(err);
  note(io, message);
  return EXIT.loomError;
}

/** A plain text table: left-aligned columns separated by three spaces, like the docker CLI's. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** "45s", "3m", "2h", "5d": the largest unit that fits. */
export function age(fromMs: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.floor((nowMs - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 10 ? `${Math.round(mb)} MB` : `${mb.toFixed(1)} MB`;
}
