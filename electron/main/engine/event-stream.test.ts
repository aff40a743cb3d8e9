// The stream adapter on its own, fed by a scripted run (the real engine's runs are in
// executor-stream.test.ts): order, coalescing, the bound on held output, and cancellation.
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ExecuteEventSchema, Phase, type ExecuteEvent } from '../../../shared/gen/loom/v1/docker_pb';
import { AbortedError, ValidationError } from './errors';
import { DEFAULT_STREAM_BUFFER_BYTES, eventStream, type ExecuteEventStream } from './event-stream';

type Emit = (event: ExecuteEvent) => void;
const out = (kind: 'stdout' | 'stderr', text: string | Uint8Array): ExecuteEvent =>
  create(ExecuteEventSchema, { event: { case: kind, value: typeof text === 'string' ? Buffer.from(text) : text } });
const phase = (p: Phase): ExecuteEvent => create(ExecuteEventSchema, { event: { case: 'phase', value: { phase: p } } });
const done = (): ExecuteEvent => create(ExecuteEventSchema, { event: { case: 'done', value: { exitCode: 0 } } });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A run that the test drives: it emits when told, and ends when its signal aborts (as execute does). */
function scriptedRun() {
  const run = {
    emit: undefined as unknown as Emit,
    signal: undefined as unknown as AbortSignal,
    finish: (): void => undefined,
    start: (emit: Emit, signal: AbortSignal): Promise<void> => {
      run.emit = emit;
      run.signal = signal;
      return new Promise<void>((resolve, reject) => {
        run.finish = resolve;
        signal.addEventListener('abort', () => reject(new AbortedError('the execution was cancelled')), { once: true });
      });
    },
  };
  return run;
}

function describeEvent(e: ExecuteEvent): string {
  const v = e.event;
  if (v.case === 'stdout' || v.case === 'stderr') return `${v.case}:${Buffer.from(v.value).toString()}`;
  if (v.case === 'phase') return `phase:${Phase[v.value.phase]}`;
  return v.case ?? 'none';
}

describe('eventStream', () => {
  it('delivers events in order, joining output of one stream that waited, and ends after done', async () => {
    const run = scriptedRun();
    const stream = eventStream(run.start);
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    await tick();
    run.emit(phase(Phase.RUNNING));
    for (const [kind, text] of [['stdout', 'a'], ['stdout', 'b'], ['stderr', 'x'], ['stdout', 'c'], ['stdout', 'd']] as const) run.emit(out(kind, text));
    run.emit(phase(Phase.DONE));
    run.emit(done());
    run.finish();
    const got = [describeEvent((await first).value as ExecuteEvent)];
    for await (const e of { [Symbol.asyncIterator]: () => it }) got.push(describeEvent(e));
    expect(got).toEqual(['phase:RUNNING', 'stdout:ab', 'stderr:x', 'stdout:cd', 'phase:DONE', 'done']);
    expect(stream.bufferedBytes).toBe(0);
  });

  it.each([
    ['break', async (s: ExecuteEventStream) => {
      for await (const _ of s) break;
    }],
    ['a throw in the loop', async (s: ExecuteEventStream) => {
      await expect(
        (async () => {
          for await (const _ of s) throw new Error('consumer failed');
        })(),
      ).rejects.toThrow('consumer failed');
    }],
  ])('cancels the run when the consumer leaves early by %s', async (_how, consume) => {
    const run = scriptedRun();
    const stream = eventStream(run.start);
    const consumed = consume(stream);
    await tick();
    run.emit(out('stdout', 'first'));
    await consumed;
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toBeInstanceOf(AbortedError);
    // What the dying run still emits is not kept for a consumer who left.
    run.emit(out('stdout', 'late'));
    expect(stream.bufferedBytes).toBe(0);
  });

  it("cancels the run on the caller's signal and throws the run's error", async () => {
    const run = scriptedRun();
    const caller = new AbortController();
    const stream = eventStream(run.start, { signal: caller.signal });
    const reading = (async () => {
      for await (const _ of stream) caller.abort();
    })();
    await tick();
    run.emit(phase(Phase.RUNNING));
    await expect(reading).rejects.toBeInstanceOf(AbortedError);
    expect(run.signal.aborted).toBe(true);
  });

  it('holds at most the bound of output for a consumer that does not read, and keeps every other event', async () => {
    const run = scriptedRun();
    const bound = DEFAULT_STREAM_BUFFER_BYTES;
    const stream = eventStream(run.start);
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    await tick();
    run.emit(phase(Phase.RUNNING));
    await first;
    // 200 MiB in 64 KiB chunks, then many tiny ones, with phases between, while nothing reads.
    const chunk = new Uint8Array(64 * 1024).fill(120);
    let written = 0;
    let peak = 0;
    for (let i = 0; i < 3200; i++) {
      run.emit(out(i % 2 ? 'stdout' : 'stderr', chunk));
      written += chunk.length;
      if (i % 800 === 0) run.emit(phase(Phase.RUNNING));
      peak = Math.max(peak, stream.bufferedBytes);
    }
    for (let i = 0; i < 50_000; i++) {
      run.emit(out('stdout', 'y'));
      written += 1;
      peak = Math.max(peak, stream.bufferedBytes);
    }
    run.emit(phase(Phase.DONE));
    run.emit(done());
    run.finish();
    expect(peak).toBeLessThanOrEqual(bound);
    expect(peak).toBeGreaterThan(bound - 64 * 1024);

    const kinds: string[] = [];
    let delivered = 0;
    for await (const e of { [Symbol.asyncIterator]: () => it }) {
      const v = e.event;
      if (v.case === 'stdout' || v.case === 'stderr') {
        delivered += v.value.length;
        expect(v.value.length).toBeLessThanOrEqual(1024 * 1024);
      } else {
        kinds.push(describeEvent(e));
      }
    }
    expect(kinds).toEqual(['phase:RUNNING', 'phase:RUNNING', 'phase:RUNNING', 'phase:RUNNING', 'phase:DONE', 'done']);
    const { stdout, stderr } = stream.droppedBytes;
    expect(stdout).toBeGreaterThan(0);
    expect(stderr).toBeGreaterThan(0);
    // Every byte is either streamed or counted as dropped.
    expect(delivered + stdout + stderr).toBe(written);
    expect(stream.bufferedBytes).toBe(0);
  });

  it('refuses a buffer bound that would drop output even for a consumer that keeps up', () => {
    const err = (() => {
      try {
        eventStream(() => Promise.resolve(), { maxBufferedBytes: 1000 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('maxBufferedBytes');
  });
});
