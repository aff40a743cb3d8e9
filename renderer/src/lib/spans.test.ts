import { describe, expect, it } from 'vitest';
import { SpanSource, SpanStatus } from '../../../shared/gen/loom/v1/docker_pb';
import { flattenTree } from '../../../shared/span-tree';
import { barGeometry, buildTraceModel, formatNanos, spanFromJson } from './spans';

describe('spanFromJson', () => {
  it('converts times, enums and attributes', () => {
    const span = spanFromJson({
      traceId: 't',
      spanId: 'a',
      name: 'load',
      startTimeUnixNano: '1700000000000000123',
      endTimeUnixNano: '1700000000000500123',
      attributes: { rows: 5 },
      status: 'SPAN_STATUS_ERROR',
      statusMessage: 'boom',
      source: 'SPAN_SOURCE_CONTAINER',
    });
    expect(span.startTimeUnixNano).toBe(1700000000000000123n);
    expect(span.status).toBe(SpanStatus.ERROR);
    expect(span.source).toBe(SpanSource.CONTAINER);
    expect(span.parentSpanId).toBe('');
    expect(span.attributes).toEqual({ rows: 5 });
  });

  it('survives garbage', () => {
    const span = spanFromJson({ startTimeUnixNano: '-1', endTimeUnixNano: 'x', status: 'SPAN_STATUS_UNSPECIFIED' });
    expect(span.startTimeUnixNano).toBe(0n);
    expect(span.endTimeUnixNano).toBe(0n);
    expect(span.status).toBe(SpanStatus.UNSPECIFIED);
  });
});

describe('buildTraceModel', () => {
  const spans = [
    spanFromJson({ spanId: 'r', name: 'root', startTimeUnixNano: '1000', endTimeUnixNano: '2000' }),
    spanFromJson({ spanId: 'c', parentSpanId: 'r', name: 'child', startTimeUnixNano: '1250', endTimeUnixNano: '1500', status: 'SPAN_STATUS_ERROR' }),
  ];

  it('finds the bounds, errors and parents', () => {
    const model = buildTraceModel(spans);
    expect(model.startNs).toBe(1000n);
    expect(model.endNs).toBe(2000n);
    expect(model.errorCount).toBe(1);
    expect([...model.parents]).toEqual(['r']);
    expect(flattenTree(model.root).map((r) => [r.span.name, r.depth])).toEqual([
      ['root', 0],
      ['child', 1],
    ]);
  });

  it('places bars as fractions of the trace', () => {
    const model = buildTraceModel(spans);
    expect(barGeometry(spans[1]!, model)).toEqual({ left: 0.25, width: 0.25 });
    expect(barGeometry(spans[0]!, model)).toEqual({ left: 0, width: 1 });
  });

  it('builds 100,000 spans quickly', () => {
    const many = Array.from({ length: 100_000 }, (_, i) =>
      spanFromJson({ spanId: `s${i}`, parentSpanId: i === 0 ? '' : `s${Math.floor((i - 1) / 4)}`, name: `op ${i}`, startTimeUnixNano: String(1000 + i), endTimeUnixNano: String(2000 + i) }),
    );
    const t = performance.now();
    const model = buildTraceModel(many);
    expect(flattenTree(model.root)).toHaveLength(100_000);
    expect(performance.now() - t).toBeLessThan(3000);
  });
});

describe('formatNanos', () => {
  it.each([
    [0, '0'],
    [850_000, '850 µs'],
    [12_500_000, '12.5 ms'],
    [3_200_000_000, '3.20 s'],
  ])('picks a unit: %i ns is %s', (ns, text) => {
    expect(formatNanos(ns)).toBe(text);
  });
});
