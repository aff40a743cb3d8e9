// The host side of the hand-off channel (handoff-channel.ts): a Loom host process (`loom ui`, the
// app) runs the requests of `loom exec` processes of the same user on its own executor, whose
// containers are warm and whose engine connection is open. One host serves a directory; a second
// one finds the socket alive and leaves it to the first.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmod, lstat, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { ExecuteEventSchema, ExecuteRequestSchema, ExecuteResponseSchema } from '../../../shared/gen/loom/v1/docker_pb';
import { DECLINED, execCommand } from '../cli/exec-command';
import { errorObject } from '../cli/format';
import { canHandOff } from '../cli/handoff-client';
import type { Executor } from '../engine/executor';
import { processAlive } from '../engine/pool/labels';
import { answers, encodeHandoffFrame, HandoffFrame, HandoffFrameReader, handoffDir, jsonFrame, socketPath, tokenPath } from './handoff-channel';

export interface HandoffHostOptions {
  /** The host's executor (made on first need). */
  executor: () => Promise<Executor>;
  /** The engine the executor uses, as DOCKER_HOST names it ('' for the default): a client that would use another one works alone. */
  dockerHost?: string;
  /** Default: handoffDir(). */
  dir?: string;
  onError?: (err: unknown) => void;
  /** Called when a client of this user asks the host to stop (`loom host --stop`); without it, such a request is declined. */
  onStop?: () => void;
}

export interface HandoffHost {
  readonly socket: string;
  /** How long it has run nothing for a client (ms); 0 while it runs something. */
  idleMs(): number;
  /** Stops serving (runs in progress are cancelled) and removes the socket and token. */
  close(): Promise<void>;
}

/** Serves the hand-off socket; null when another live host serves it already, or the directory is not safe to use. */
export async function startHandoffHost(options: HandoffHostOptions): Promise<HandoffHost | null> {
  const dir = options.dir ?? handoffDir();
  const onError = options.onError ?? (() => undefined);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  // Someone else's directory, or a link to one: a socket or token there is not ours to trust.
  if (!st.isDirectory() || st.uid !== process.getuid?.()) return null;
  if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
  const sock = socketPath(dir);
  if (await answers(sock)) return null;
  const release = await claim(dir, sock);
  if (!release) return null;
  await rm(sock, { force: true });

  const token = randomBytes(32).toString('hex');
  const dockerHost = options.dockerHost ?? process.env['DOCKER_HOST'] ?? '';
  const connections = new Set<Socket>();
  // Runs in progress, and when the last one ended: a connection that runs nothing (a probe, a
  // declined client) does not count.
  let running = 0;
  let lastRunEnded = performance.now();
  const host: Served = {
    token,
    dockerHost,
    executor: options.executor,
    onError,
    onStop: options.onStop,
    started: () => running++,
    ended: () => {
      running--;
      lastRunEnded = performance.now();
    },
  };
  const server: Server = createServer((conn) => {
    connections.add(conn);
    conn.once('close', () => connections.delete(conn));
    serve(conn, host);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sock, () => resolve());
    });
  } catch (err) {
    await release();
    throw err;
  }
  await chmod(sock, 0o600);
  // Written whole, then renamed: a client never reads half a token.
  const tmp = `${tokenPath(dir)}.${process.pid}`;
  await writeFile(tmp, token, { mode: 0o600 });
  await rename(tmp, tokenPath(dir));

  return {
    socket: sock,
    idleMs: () => (running ? 0 : performance.now() - lastRunEnded),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of connections) conn.destroy();
      await closed;
      // Only what is still ours: a later host may have taken the directory over.
      const current = await readFile(tokenPath(dir), 'utf8').catch(() => '');
      if (current === token) await rm(tokenPath(dir), { force: true });
      if (!(await answers(sock))) await rm(sock, { force: true });
      await release();
    },
  };
}

/** How long a host may take from its claim on the directory to serving it. */
const CLAIM_STALE_MS = 30_000;

/**
 * The directory's claim, host.lock (our PID, made with O_EXCL): of hosts that start at once (a
 * burst of first `loom exec`s each start one in the background) one alone serves, and none is
 * left serving a socket nobody can reach. A claim is stale when its process is gone, or when it
 * is older than CLAIM_STALE_MS and nothing answers at the socket (its host crashed and the PID
 * was reused). Returns the claim's release, or null when another host holds it.
 */
async function claim(dir: string, sock: string): Promise<(() => Promise<void>) | null> {
  const lock = join(dir, 'host.lock');
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lock, mine, { flag: 'wx', mode: 0o600 });
      return async () => {
        if ((await readFile(lock, 'utf8').catch(() => '')) === mine) await rm(lock, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const [holder, st] = await Promise.all([readFile(lock, 'utf8').catch(() => ''), stat(lock).catch(() => null)]);
    const stale = !alive(Number(holder)) || (st !== null && Date.now() - st.mtimeMs > CLAIM_STALE_MS && !(await answers(sock)));
    if (!stale) return null;
    await rm(lock, { force: true });
  }
  return null;
}

/** Whether the claim's holder runs; one whose PID is not yet written (an empty claim) counts as running. */
function alive(pid: number): boolean {
  return !Number.isInteger(pid) || pid <= 0 || processAlive(pid, hostname());
}

const sameToken = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** What every connection is served with. */
interface Served {
  token: string;
  dockerHost: string;
  executor: () => Promise<Executor>;
  onError: (err: unknown) => void;
  onStop: (() => void) | undefined;
  /** A run began, and ended. */
  started(): void;
  ended(): void;
}

function serve(conn: Socket, host: Served): void {
  const reader = new HandoffFrameReader();
  const controller = new AbortController();
  // A native client's Ctrl+C, as `loom exec` hears its own (ARGV; see execCommand's RunStops).
  const signals = new EventEmitter();
  const stop = (signal: 'SIGINT' | 'SIGTERM'): void => {
    controller.abort();
    signals.emit(signal, signal);
  };
  let greeted = false;
  // A client that would use another engine may still ask us to stop, but not to run.
  let sameEngine = false;
  let started = false;
  const decline = (reason: string): void => {
    conn.end(jsonFrame(HandoffFrame.DECLINE, { reason }));
  };
  conn.on('error', () => undefined);
  // The client went away (Ctrl+C, killed): its run is cancelled.
  conn.once('close', () => stop('SIGTERM'));
  conn.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = reader.push(chunk);
    } catch {
      conn.destroy();
      return;
    }
    for (const { kind, payload } of frames) {
      if (!greeted) {
        if (kind !== HandoffFrame.HELLO) return decline('the first frame must be HELLO');
        let hello: { token?: unknown; dockerHost?: unknown };
        try {
          hello = JSON.parse(payload.toString('utf8')) as typeof hello;
        } catch {
          return decline('HELLO is not JSON');
        }
        if (typeof hello.token !== 'string' || !sameToken(hello.token, host.token)) return decline('wrong token');
        sameEngine = hello.dockerHost === host.dockerHost;
        greeted = true;
      } else if ((kind === HandoffFrame.REQUEST || kind === HandoffFrame.ARGV) && !started) {
        if (!sameEngine) return decline('another engine');
        started = true;
        host.started();
        const work = kind === HandoffFrame.REQUEST ? run(conn, payload, host.executor, controller.signal) : runCommandLine(conn, payload, host.executor, signals);
        void work.catch(host.onError).finally(host.ended);
      } else if (kind === HandoffFrame.STOP) {
        if (!host.onStop) return decline('this Loom host process (the app, or loom ui) stops only from its own window or terminal');
        conn.end();
        host.onStop();
      } else if (kind === HandoffFrame.CANCEL) {
        stop(payload.toString('utf8') === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
      }
    }
  });
}

async function run(conn: Socket, payload: Buffer, executor: () => Promise<Executor>, signal: AbortSignal): Promise<void> {
  const send = (frame: Buffer): void => {
    if (!conn.destroyed) conn.write(frame);
  };
  try {
    const request = fromBinary(ExecuteRequestSchema, payload);
    const response = await (await executor()).execute(request, {
      signal,
      onEvent: (event) => send(encodeHandoffFrame(HandoffFrame.EVENT, toBinary(ExecuteEventSchema, event))),
    });
    send(encodeHandoffFrame(HandoffFrame.RESPONSE, toBinary(ExecuteResponseSchema, response)));
  } catch (err) {
    send(jsonFrame(HandoffFrame.ERROR, errorObject(err)));
  } finally {
    conn.end();
  }
}

/**
 * A native client's command line (ARGV), run as `loom exec` would run it (the same parsing,
 * output and exit status), on the host's executor; what it writes goes back as STDOUT and STDERR
 * frames, then EXIT. A command line it leaves to the client (DECLINED) is declined.
 */
async function runCommandLine(conn: Socket, payload: Buffer, executor: () => Promise<Executor>, signals: EventEmitter): Promise<void> {
  const strings = payload.toString('utf8').split('\0');
  const argc = Number(strings[0]);
  const argv = strings.slice(1, 1 + argc);
  const env: NodeJS.ProcessEnv = {};
  for (const pair of strings.slice(1 + argc)) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const stdout = frameStream(conn, HandoffFrame.STDOUT);
  const stderr = frameStream(conn, HandoffFrame.STDERR);
  let code = DECLINED;
  try {
    if (!Number.isInteger(argc) || argc < 0 || argv.length !== argc) throw new Error('ARGV is malformed');
    code = await execCommand(argv, { stdout, stderr, stdin: Readable.from([]) }, {
      env,
      signals,
      hosted: true,
      handOff: async (plan, opts) => (canHandOff(plan, env) ? (await executor()).execute(plan.request, opts) : null),
    });
  } finally {
    // Everything it wrote, then its status, in that order.
    await Promise.all([stdout, stderr].map((stream) => new Promise((resolve) => stream.end(resolve))));
    if (code === DECLINED) conn.end(jsonFrame(HandoffFrame.DECLINE, { reason: 'a command line the client runs itself' }));
    else conn.end(encodeHandoffFrame(HandoffFrame.EXIT, Uint8Array.of(code)));
  }
}

/** A stream whose writes go to the client as frames of one kind, at the pace the client reads them. */
function frameStream(conn: Socket, kind: number): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (conn.destroyed || conn.write(encodeHandoffFrame(kind, chunk))) return done();
      const go = (): void => {
        conn.off('drain', go).off('close', go);
        done();
      };
      conn.on('drain', go).on('close', go);
    },
  });
}
