import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { SpanSchema, SpanSource, SpanStatus } from '../../../../shared/gen/loom/v1/docker_pb';
import { MemorySink, newSpanId, newTraceId, nowUnixNano, startSpan } from './tracer';

describe('ids', () => {
  it('are lowercase hex of the right length, nonzero, and distinct', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      expect(t).not.toMatch(/^0+$/);
      expect(s).not.toMatch(/^0+$/);
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).toBe(1000);
    expect(spans.size).toBe(1000);
  });
});

describe('nowUnixNano', () => {
  it('is the wall clock in ns, in whole microseconds, never going backwards', () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    let last = nowUnixNano();
    expect(last % 1000n).toBe(0n);
    expect(last - before).toBeGreaterThan(-50_000_000n); // within 50 ms of Date.now()
    expect(last - before).toBeLessThan(50_000_000n);
    for (let i = 0; i < 10_000; i++) {
      const t = nowUnixNano();
      expect(t >= last).toBe(true);
      last = t;
    }
  });
});

describe('HostSpan', () => {
  it('makes a finished HOST span with ids, parent, attributes and status', () => {
    const traceId = newTraceId();
    const parent = startSpan('docker.execute', { traceId, attributes: { runtime: 'python' } });
    const child = parent.child('docker.image', { image: 'python:3.11-slim' });
    child.setAttribute('pulled', false);
    const c = child.end('ok', 'ignored for ok');
    const p = parent.setAttribute('exit_code', 1).end('error', 'exit code 1');

    expect(p).toMatchObject({
      traceId,
      spanId: parent.spanId,
      parentSpanId: '',
      name: 'docker.execute',
      attributes: { runtime: 'python', exit_code: 1 },
      status: SpanStatus.ERROR,
      statusMessage: 'exit code 1',
      source: SpanSource.HOST,
    });
    expect(c).toMatchObject({
      traceId,
      parentSpanId: parent.spanId,
      attributes: { image: 'python:3.11-slim', pulled: false },
      status: SpanStatus.OK,
      statusMessage: '',
      source: SpanSource.HOST,
    });
    // Nested spans order correctly even when they take far less than a millisecond.
    expect(p.startTimeUnixNano <= c.startTimeUnixNano).toBe(true);
    expect(c.startTimeUnixNano <= c.endTimeUnixNano).toBe(true);
    expect(c.endTimeUnixNano <= p.endTimeUnixNano).toBe(true);
  });

  it('defaults to unset status, and ending twice returns the first result unchanged', () => {
    const s = startSpan('x', { traceId: newTraceId(), parentSpanId: newSpanId() });
    const first = s.end();
    expect(first.status).toBe(SpanStatus.UNSPECIFIED);
    expect(s.ended).toBe(true);
    s.setAttribute('late', true);
    expect(s.end('error', 'again')).toBe(first);
    expect(first.attributes).toEqual({});
  });

  it('does not share the attributes object passed in', () => {
    const attrs = { a: 1 };
    const s = startSpan('x', { traceId: newTraceId(), attributes: attrs });
    s.setAttribute('b', 2);
    expect(attrs).toEqual({ a: 1 });
    expect(s.end().attributes).toEqual({ a: 1, b: 2 });
  });
});

describe('MemorySink', () => {
  const span = (traceId: string, spanId: string, name = 'n') => create(SpanSchema, { traceId, spanId, name });

  it('groups spans by trace and replaces a span exported twice', () => {
    const sink = new MemorySink();
    sink.export([span('t1', 's1'), span('t2', 's2'), span('t1', 's3')]);
    sink.export([span('t1', 's1', 'again')]);
    expect(sink.traces()).toEqual(['t2', 't1']);
    expect(sink.spans('t1').map((s) => `${s.spanId}:${s.name}`)).toEqual(['s1:again', 's3:n']);
    expect(sink.spans('nope')).toEqual([]);
  });

  it('keeps at most maxTraces, dropping the least recently exported', () => {
    const sink = new MemorySink(3);
    for (const t of ['a', 'b', 'c']) sink.export([span(t, '1')]);
    sink.export([span('a', '2')]); // a is fresh again
    sink.export([span('d', '1')]);
    expect(sink.traces()).toEqual(['c', 'a', 'd']);
    expect(sink.spans('b')).toEqual([]);
    // One batch larger than the bound keeps its newest traces.
    sink.export(['e', 'f', 'g', 'h'].map((t) => span(t, '1')));
    expect(sink.traces()).toEqual(['f', 'g', 'h']);
  });

  it('defaults to 100 traces and rejects a nonsensical bound', async () => {
    const sink = new MemorySink();
    for (let i = 0; i < 150; i++) sink.export([span(`t${i}`, '1')]);
    expect(sink.traces()).toHaveLength(100);
    expect(sink.traces()[0]).toBe('t50');
    expect(() => new MemorySink(0)).toThrow(RangeError);
    await expect(sink.shutdown()).resolves.toBeUndefined();
  });
});
