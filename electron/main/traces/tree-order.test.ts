// The head's order must be the view's: treeOrder against buildSpanTree + flattenTree on random
// forests with orphans, self-parents, parent cycles, equal start times and names.
import { describe, expect, it } from 'vitest';
import { buildSpanTree, flattenTree } from '../../../shared/span-tree';
import { SpanSource, SpanStatus, type Span } from '../../../shared/gen/loom/v1/docker_pb';
import { treeOrder, type LightRow } from './tree-order';

function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

function forest(seed: number, n: number): LightRow[] {
  const rnd = random(seed);
  const id = (k: number): string => (k + 1).toString(16).padStart(16, '0');
  return Array.from({ length: n }, (_, k): LightRow => {
    const r = rnd();
    // Roots, orphans (a parent not in the trace), self-parents, and parents anywhere (cycles happen).
    const parent = r < 0.05 ? '' : r < 0.1 ? 'ffffffffffffffff' : r < 0.12 ? id(k) : id(Math.floor(rnd() * n));
    const start = String(1_700_000_000_000_000_000n + BigInt(Math.floor(rnd() * 20)) * 999_999_999n);
    return [id(k), parent, `op.${Math.floor(rnd() * 3)}`, start, String(BigInt(start) + 5n)];
  });
}

function viewOrder(rows: readonly LightRow[]): string[] {
  const spans = rows.map(
    ([spanId, parentSpanId, name, start, end]): Span => ({
      $typeName: 'loom.v1.Span',
      traceId: '',
      spanId,
      parentSpanId,
      name,
      startTimeUnixNano: BigInt(start),
      endTimeUnixNano: BigInt(end),
      status: SpanStatus.UNSPECIFIED,
      statusMessage: '',
      source: SpanSource.UNSPECIFIED,
    }),
  );
  return flattenTree(buildSpanTree(spans)).map((r) => r.span.spanId);
}

describe('treeOrder', () => {
  it('is the view order, cut at the limit, on random forests', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rows = forest(seed, 50 + seed * 7);
      const whole = viewOrder(rows);
      expect(whole).toHaveLength(rows.length);
      expect(treeOrder(rows, rows.length).order).toEqual(whole);
      expect(treeOrder(rows, 17).order).toEqual(whole.slice(0, 17));
    }
  });

  it('orders starts as numbers (a shorter decimal is earlier), and reads what is not a time as 0', () => {
    const rows: LightRow[] = [
      ['0000000000000001', '', 'b', '100', '200'],
      ['0000000000000002', '', 'a', '99', '1000'],
      ['0000000000000003', '', 'c', '1.8e+19', '50'],
    ];
    const result = treeOrder(rows, 10);
    expect(result.order).toEqual(['0000000000000003', '0000000000000002', '0000000000000001']);
    expect(result).toMatchObject({ startNs: '99', endNs: '1000' });
  });
});
