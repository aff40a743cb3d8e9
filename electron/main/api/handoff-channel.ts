// The local channel over which a `loom exec` process hands its run to a Loom host process that
// already runs for this user (`loom ui`, the app): a Unix socket in a directory only the user
// can enter (0700), the socket itself 0600, and a token file (0600) beside it whose contents the
// client must present first. The host runs the request on its own warm executor, so the client
// starts no engine client of its own (see handoff-host.ts and cli/handoff-client.ts).
//
// Frames, both ways: [payload length u32 BE][kind u8][payload]. The request, events and the
// response are the contract's protobuf messages (binary: bytes and int64 survive as they are).
// This module imports no engine code: the client loads it on every `loom exec`.
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const HandoffFrame = {
  /** client: JSON {token, dockerHost}: who it is, and the engine it would use itself. */
  HELLO: 1,
  /** client: a protobuf ExecuteRequest. */
  REQUEST: 2,
  /** client: stop the run (Ctrl+C); closing the connection does the same. Payload: the signal's name, or none. */
  CANCEL: 3,
  /**
   * client, instead of REQUEST: the command line itself, from the native client (bin/loom-exec.c),
   * which parses nothing: the host runs `loom exec` for it (cli/exec-command.ts) and sends back
   * what that wrote (STDOUT, STDERR) and its exit status (EXIT). Payload: NUL-terminated strings,
   * argc as a decimal, then argv (after `exec`), then the client's environment as NAME=VALUE.
   */
  ARGV: 4,
  /** client (`loom host --stop`): stop serving; the host ends the connection, or declines. */
  STOP: 5,
  /** host: a protobuf ExecuteEvent. */
  EVENT: 10,
  /** host: the protobuf ExecuteResponse; the last frame. */
  RESPONSE: 11,
  /** host: JSON, the error as `loom exec --json` reports it ({name, message, ...fields}); the last frame. */
  ERROR: 12,
  /** host: JSON {reason}: not this request (another engine, a bad token); nothing ran, the client works alone. */
  DECLINE: 13,
  /** host, after ARGV: bytes `loom exec` wrote to its stdout. */
  STDOUT: 14,
  /** host, after ARGV: bytes `loom exec` wrote to its stderr. */
  STDERR: 15,
  /** host, after ARGV: `loom exec`'s exit status, u8; the last frame. */
  EXIT: 16,
} as const;

export const HEADER_BYTES = 5;
/** Far above any request or event; anything bigger means the stream is out of step. */
export const MAX_FRAME_BYTES = 64 << 20;

/**
 * The directory of the socket and token: under LOOM_HOME when set (a separate Loom home is a
 * separate setup), else $XDG_RUNTIME_DIR/loom, else ~/.cache/loom.
 */
export function handoffDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['LOOM_HOME']) return join(env['LOOM_HOME'], 'run');
  if (env['XDG_RUNTIME_DIR']) return join(env['XDG_RUNTIME_DIR'], 'loom');
  return join(homedir(), '.cache', 'loom');
}

export const socketPath = (dir: string): string => join(dir, 'exec.sock');
export const tokenPath = (dir: string): string => join(dir, 'exec.token');

/** Whether something listens at the socket. */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export function encodeHandoffFrame(kind: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt8(kind, 4);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export const jsonFrame = (kind: number, body: unknown): Buffer => encodeHandoffFrame(kind, Buffer.from(JSON.stringify(body), 'utf8'));

/** Reassembles frames from the chunks of a stream. */
export class HandoffFrameReader {
  private buf: Buffer = Buffer.alloc(0);

  /** The complete frames so far; throws on a frame over MAX_FRAME_BYTES. */
  push(chunk: Buffer): { kind: number; payload: Buffer }[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: { kind: number; payload: Buffer }[] = [];
    while (this.buf.length >= HEADER_BYTES) {
      const length = this.buf.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) throw new Error(`hand-off frame of ${length} bytes: the stream is out of step`);
      if (this.buf.length < HEADER_BYTES + length) break;
      frames.push({ kind: this.buf.readUInt8(4), payload: this.buf.subarray(HEADER_BYTES, HEADER_BYTES + length) });
      this.buf = this.buf.subarray(HEADER_BYTES + length);
    }
    return frames;
  }
}
