// `loom exec` handing its run to a Loom host process of the same user (see
// electron/main/api/handoff-channel.ts): no engine client of its own to load and connect, and the
// host's warm containers. The result, the streamed events, the errors and Ctrl+C are the same as
// when it works alone; where no host answers (or it declines), the caller works alone.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { ExecuteEventSchema, ExecuteRequestSchema, ExecuteResponseSchema, type ExecuteEvent, type ExecuteRequest, type ExecuteResponse } from '../../../shared/gen/loom/v1/docker_pb';
import { encodeHandoffFrame, HandoffFrame, HandoffFrameReader, handoffDir, jsonFrame, socketPath, tokenPath } from '../api/handoff-channel';
import type { ExecPlan } from './exec-plan';

export interface HandOffOptions {
  onEvent: (event: ExecuteEvent) => void;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * Whether a host's executor would run this plan exactly as our own would: the same engine (see
 * HELLO), the default package sources and trace export, and no local package files (a host takes
 * those only from its own directory).
 */
export function canHandOff(plan: ExecPlan, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['LOOM_NO_HANDOFF'] === '1') return false;
  // --artifacts: the files stream to this process's disk, which a host's answer does not carry.
  if (plan.artifactsDir !== undefined) return false;
  if (plan.dockerHost !== undefined || plan.otlpEndpoint !== undefined || Object.keys(plan.packageSources).length > 0) return false;
  return !(plan.request.config?.packages ?? []).some((p) => p.startsWith('/'));
}

/** The error as the host reported it, rebuilt so that `loom exec` reports it the same way. */
function rebuildError(body: Record<string, unknown>): Error {
  const { name, message, ...fields } = body;
  const err = new Error(typeof message === 'string' ? message : 'the Loom host process reported an error');
  err.name = typeof name === 'string' ? name : 'Error';
  return Object.assign(err, fields);
}

/**
 * A connection to the host that serves this user, its first frames written: HELLO (the token, and
 * the engine we would use) and `then`. Null when no host answers.
 */
async function greetHost(env: NodeJS.ProcessEnv, then: Buffer): Promise<Socket | null> {
  const dir = handoffDir(env);
  const token = await readFile(tokenPath(dir), 'utf8').catch(() => null);
  if (token === null) return null;
  const conn = await new Promise<Socket | null>((resolve) => {
    const c = connect(socketPath(dir));
    c.once('connect', () => resolve(c));
    c.once('error', () => resolve(null));
  });
  conn?.write(Buffer.concat([jsonFrame(HandoffFrame.HELLO, { token, dockerHost: env['DOCKER_HOST'] ?? '' }), then]));
  return conn;
}

/** The run's response from a host, or null when no host took it (nothing ran: work alone). */
export async function handOff(request: ExecuteRequest, opts: HandOffOptions): Promise<ExecuteResponse | null> {
  // HELLO and the request at once: a host that declines never runs it.
  const conn = await greetHost(opts.env ?? process.env, encodeHandoffFrame(HandoffFrame.REQUEST, toBinary(ExecuteRequestSchema, request)));
  if (!conn) return null;
  const cancel = (): void => {
    if (!conn.destroyed) conn.write(encodeHandoffFrame(HandoffFrame.CANCEL));
  };
  if (opts.signal.aborted) cancel();
  opts.signal.addEventListener('abort', cancel, { once: true });
  try {
    return await new Promise<ExecuteResponse | null>((resolve, reject) => {
      const reader = new HandoffFrameReader();
      let heard = false;
      conn.on('data', (chunk: Buffer) => {
        try {
          for (const { kind, payload } of reader.push(chunk)) {
            heard = true;
            if (kind === HandoffFrame.EVENT) opts.onEvent(fromBinary(ExecuteEventSchema, payload));
            else if (kind === HandoffFrame.RESPONSE) resolve(fromBinary(ExecuteResponseSchema, payload));
            else if (kind === HandoffFrame.ERROR) reject(rebuildError(JSON.parse(payload.toString('utf8')) as Record<string, unknown>));
            else if (kind === HandoffFrame.DECLINE) resolve(null);
          }
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          conn.destroy();
        }
      });
      conn.once('error', () => undefined);
      // Before any frame, nothing ran (the host runs nothing before its first event): work alone.
      // After one, the run was the host's, and it went away in the middle of it.
      conn.once('close', () => (heard ? reject(new Error('the Loom host process that ran this request went away during the run')) : resolve(null)));
    });
  } finally {
    opts.signal.removeEventListener('abort', cancel);
    conn.destroy();
  }
}

/**
 * Asks the host that serves this user's `loom exec` to stop (`loom host --stop`): 'none' when no
 * host answers, 'stopping' once it took the request, else why it declined.
 */
export async function askHostToStop(env: NodeJS.ProcessEnv = process.env): Promise<'none' | 'stopping' | { declined: string }> {
  const conn = await greetHost(env, encodeHandoffFrame(HandoffFrame.STOP));
  if (!conn) return 'none';
  return new Promise((resolve) => {
    const reader = new HandoffFrameReader();
    let answer: 'stopping' | { declined: string } = 'stopping';
    conn.on('data', (chunk: Buffer) => {
      for (const { kind, payload } of reader.push(chunk)) {
        if (kind === HandoffFrame.DECLINE) answer = { declined: String((JSON.parse(payload.toString('utf8')) as { reason?: unknown }).reason) };
      }
    });
    conn.once('error', () => undefined);
    conn.once('close', () => resolve(answer));
  });
}
