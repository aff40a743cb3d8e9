// Making sure an image is on the engine before a container needs it: inspect, pull when
// missing, report progress, and share one pull between callers that ask at the same time.
import type Docker from 'dockerode';
import { AbortedError, describeCause, ImagePullError } from '../errors';

export interface PullProgress {
  image: string;
  layer: string;
  status: string;
  current: number;
  total: number;
}

/** One line of the engine's pull stream (JSON messages of POST /images/create). */
interface EngineEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** A pull in flight, shared by every caller waiting for the same image on the same client. */
interface SharedPull {
  done: Promise<void>;
  listeners: Set<(p: PullProgress) => void>;
  waiters: number;
  settled: boolean;
  cancel(): void;
}

// Keyed by client so that two clients (two engines) never share a pull, and a dropped
// client takes its bookkeeping with it.
const inFlight = new WeakMap<Docker, Map<string, SharedPull>>();

/** Normalises "python" → "python:latest", keeps digests and registry hosts with ports (e.g. 127.0.0.1:5000/x:1). */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  // A colon before the last slash belongs to a registry port, not to a tag.
  const name = image.slice(image.lastIndexOf('/') + 1);
  return name.includes(':') ? image : `${image}:latest`;
}

/** Makes sure `image` is present on the engine, pulling it when missing. Resolves to whether a pull happened.
 *  Concurrent calls for the same image on the same docker client share one pull. */
export async function ensureImage(
  docker: Docker,
  image: string,
  onProgress?: (p: PullProgress) => void,
  signal?: AbortSignal,
): Promise<{ pulled: boolean }> {
  if (signal?.aborted) throw abortError();
  const ref = withDefaultTag(image);
  let pulls = inFlight.get(docker);
  if (!pulls) {
    pulls = new Map();
    inFlight.set(docker, pulls);
  }

  let pull = pulls.get(ref);
  if (!pull) {
    if (await isPresent(docker, ref)) return { pulled: false };
    if (signal?.aborted) throw abortError();
    // Another caller may have started the pull while we were inspecting.
    pull = pulls.get(ref) ?? startPull(docker, ref, pulls);
  }
  await join(pull, onProgress, signal);
  return { pulled: true };
}

async function isPresent(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

function startPull(docker: Docker, ref: string, pulls: Map<string, SharedPull>): SharedPull {
  let stream: NodeJS.ReadableStream | undefined;
  let cancelled = false;
  const forget = (): void => {
    if (pulls.get(ref) === pull) pulls.delete(ref);
  };

  const pull: SharedPull = {
    done: Promise.resolve(),
    listeners: new Set(),
    waiters: 0,
    settled: false,
    cancel() {
      cancelled = true;
      // Forget it now, so that a caller arriving after the abort starts afresh.
      forget();
      if (stream) destroy(stream);
    },
  };

  pull.done = (async () => {
    let opened: NodeJS.ReadableStream;
    try {
      opened = await docker.pull(ref);
    } catch (err) {
      throw new ImagePullError(ref, engineMessage(err));
    }
    if (cancelled) {
      destroy(opened);
      throw abortError();
    }
    stream = opened;
    await follow(docker, opened, ref, (p) => pull.listeners.forEach((listener) => listener(p)));
    if (cancelled) throw abortError();
    // A pull can end without an error event and still leave nothing behind (a cut stream).
    if (!(await isPresent(docker, ref))) {
      throw new ImagePullError(ref, 'the engine finished the pull but the image is still missing');
    }
  })();

  const settle = (): void => {
    pull.settled = true;
    forget();
  };
  // Both branches handled: an abandoned pull that fails must not become an unhandled rejection.
  pull.done.then(settle, settle);
  pulls.set(ref, pull);
  return pull;
}

/** Waits for a shared pull on behalf of one caller, who may stop waiting on their own signal. */
async function join(pull: SharedPull, onProgress?: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
  // Wrapped so that two callers passing the same function each get their own subscription.
  const listener = onProgress ? (p: PullProgress) => onProgress(p) : undefined;
  if (listener) pull.listeners.add(listener);
  pull.waiters++;
  try {
    if (!signal) return await pull.done;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortError());
      signal.addEventListener('abort', onAbort, { once: true });
      pull.done.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  } finally {
    if (listener) pull.listeners.delete(listener);
    pull.waiters--;
    // The pull is only stopped once nobody is left waiting for it.
    if (pull.waiters === 0 && !pull.settled) pull.cancel();
  }
}

function follow(docker: Docker, stream: NodeJS.ReadableStream, ref: string, emit: (p: PullProgress) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    docker.modem.followProgress(
      stream,
      (err) => {
        if (err) reject(new ImagePullError(ref, describeCause(err)));
        // The engine reports a failed pull as an event on a stream that otherwise ends normally.
        else if (failure !== undefined) reject(new ImagePullError(ref, failure));
        else resolve();
      },
      (event: EngineEvent) => {
        if (event.error !== undefined || event.errorDetail !== undefined) {
          failure ??= event.errorDetail?.message ?? event.error ?? 'unknown error';
          return;
        }
        emit({
          image: ref,
          layer: event.id ?? '',
          status: event.status ?? '',
          current: event.progressDetail?.current ?? 0,
          total: event.progressDetail?.total ?? 0,
        });
      },
    );
  });
}

function destroy(stream: NodeJS.ReadableStream): void {
  if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
}

function abortError(): Error {
  return new AbortedError('the image pull was cancelled');
}

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'statusCode' in err && typeof err.statusCode === 'number') {
    return err.statusCode;
  }
  return undefined;
}

/** The engine's own words, without docker-modem's "(HTTP code 500) server error - " wrapper. */
function engineMessage(err: unknown): string {
  return describeCause(err)
    .replace(/^\(HTTP code \d+\) [^-]*- /, '')
    .trim();
}
