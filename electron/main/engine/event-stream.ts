// Executor.stream(): a run whose events arrive by callback, read as an async iterable.
//
// The run cannot be slowed down to the consumer's pace: its events come by callback, and the
// program's deadline runs on whatever the consumer does. So a consumer that reads more slowly
// than the program writes would make the events pile up without end. What is held is bounded
// instead, and only where the run is unbounded, its output:
// - Every other event is kept: the phases, the final `done` (which carries the response, with
//   the output up to max_output_bytes), pull progress, install lines and spans. Their number is
//   bounded elsewhere (an image's layers, an installer's output, maxSpansPerExecution).
// - Output (stdout, stderr) is held up to maxBufferedBytes. Neighbouring chunks of one stream
//   are delivered as one event, so a consumer that falls behind catches up in few steps. Past
//   the bound, the newest output is dropped and counted (droppedBytes) until the consumer has
//   read some: the live view gets a gap; the response in `done` keeps its output as ever (up
//   to max_output_bytes).
//
// A consumer that stops reading early (break, return, a throw in its loop) ends the run: the
// program is killed and its container goes back to the pool.
import { create } from '@bufbuild/protobuf';
import { ExecuteEventSchema, type ExecuteEvent } from '../../../shared/gen/loom/v1/docker_pb';
import { AbortedError, ValidationError } from './errors';

export const DEFAULT_STREAM_BUFFER_BYTES = 16 * 1024 * 1024;
// One read from the engine brings up to 64 KiB of output, and a few may arrive before the
// consumer gets to run: a smaller bound would drop output even for a consumer that keeps up.
const MIN_STREAM_BUFFER_BYTES = 1024 * 1024;
// What a held chunk costs besides its bytes (its Buffer object, ~100 bytes on V8): counted so
// that a flood of tiny chunks is bounded too.
const CHUNK_COST = 128;
// Held output of one stream is joined into events of at most this size.
const MAX_EVENT_BYTES = 1024 * 1024;

export interface StreamOptions {
  /** Cancels the run: the program is killed and the stream throws AbortedError. */
  signal?: AbortSignal;
  /** Output held for a consumer that falls behind (bytes, at least 1 MiB). Default 16 MiB. */
  maxBufferedBytes?: number;
}

export interface ExecuteEventStream extends AsyncIterable<ExecuteEvent> {
  /** Output held for the consumer now, in bytes (with a small charge per chunk): at most maxBufferedBytes. */
  readonly bufferedBytes: number;
  /** Output not streamed because the consumer was too far behind; the response in `done` still has it (up to max_output_bytes). */
  readonly droppedBytes: { readonly stdout: number; readonly stderr: number };
}

type Held = { event: ExecuteEvent } | { kind: 'stdout' | 'stderr'; chunks: Uint8Array[]; bytes: number; cost: number };
interface Node {
  held: Held;
  next?: Node;
}

/** Events in arrival order, output bounded as above; O(1) to add and to take. */
export class EventQueue {
  private head?: Node;
  private tail?: Node;
  bufferedBytes = 0;
  readonly droppedBytes = { stdout: 0, stderr: 0 };

  constructor(readonly maxBytes: number) {}

  push(event: ExecuteEvent): void {
    const e = event.event;
    if (e.case !== 'stdout' && e.case !== 'stderr') return this.append({ event });
    const room = this.maxBytes - this.bufferedBytes - CHUNK_COST;
    const kept = Math.max(0, Math.min(room, e.value.length));
    this.droppedBytes[e.case] += e.value.length - kept;
    if (!kept) return;
    const chunk = kept < e.value.length ? e.value.subarray(0, kept) : e.value;
    const cost = kept + CHUNK_COST;
    this.bufferedBytes += cost;
    const last = this.tail?.held;
    if (last && 'kind' in last && last.kind === e.case && last.bytes + kept <= MAX_EVENT_BYTES) {
      last.chunks.push(chunk);
      last.bytes += kept;
      last.cost += cost;
    } else {
      this.append({ kind: e.case, chunks: [chunk], bytes: kept, cost });
    }
  }

  shift(): ExecuteEvent | undefined {
    const node = this.head;
    if (!node) return undefined;
    this.head = node.next;
    if (!this.head) this.tail = undefined;
    const held = node.held;
    if ('event' in held) return held.event;
    this.bufferedBytes -= held.cost;
    const value = held.chunks.length === 1 ? (held.chunks[0] as Uint8Array) : Buffer.concat(held.chunks, held.bytes);
    return create(ExecuteEventSchema, { event: { case: held.kind, value } });
  }

  clear(): void {
    this.head = this.tail = undefined;
    this.bufferedBytes = 0;
  }

  private append(held: Held): void {
    const node: Node = { held };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
  }
}

/**
 * The events of the run `start` begins (on the first read), ending after `done` or with the
 * run's error. `start` must stop the run when its signal aborts.
 */
export function eventStream(
  start: (onEvent: (event: ExecuteEvent) => void, signal: AbortSignal) => Promise<unknown>,
  options: StreamOptions = {},
): ExecuteEventStream {
  const { signal: callerSignal, maxBufferedBytes = DEFAULT_STREAM_BUFFER_BYTES } = options;
  if (!Number.isSafeInteger(maxBufferedBytes) || maxBufferedBytes < MIN_STREAM_BUFFER_BYTES) {
    throw new ValidationError('maxBufferedBytes', `must be a whole number of bytes of at least ${MIN_STREAM_BUFFER_BYTES}, got ${maxBufferedBytes}`);
  }
  const queue = new EventQueue(maxBufferedBytes);

  async function* events(): AsyncGenerator<ExecuteEvent> {
    const abort = new AbortController();
    const forward = (): void => abort.abort(callerSignal?.reason);
    if (callerSignal?.aborted) forward();
    else callerSignal?.addEventListener('abort', forward, { once: true });
    let wake: (() => void) | undefined;
    let finished = false;
    let closed = false;
    let failure: { error: unknown } | undefined;
    const settle = (outcome?: { error: unknown }): void => {
      failure = outcome;
      finished = true;
      wake?.();
    };
    start((event) => {
      if (closed) return;
      queue.push(event);
      wake?.();
    }, abort.signal).then(
      () => settle(),
      (error: unknown) => settle({ error }),
    );
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (finished) {
          if (failure) throw failure.error;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      closed = true;
      queue.clear();
      callerSignal?.removeEventListener('abort', forward);
      // The consumer stopped early: without this, the program would run on in a busy container
      // until its deadline. The run's own end (an AbortedError) has no one left to tell.
      if (!finished) abort.abort(new AbortedError('the consumer stopped reading the stream'));
    }
  }

  const iterator = events();
  return {
    [Symbol.asyncIterator]: () => iterator,
    get bufferedBytes() {
      return queue.bufferedBytes;
    },
    get droppedBytes() {
      return { ...queue.droppedBytes };
    },
  };
}
