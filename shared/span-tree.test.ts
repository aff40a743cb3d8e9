import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { SpanSchema, SpanSource, SpanStatus, type Span } from './gen/loom/v1/docker_pb';
import { buildSpanTree, flattenTree, formatDuration, formatSpanTree, type SpanNode } from './span-tree';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const T0 = 1_700_000_000_000_000_000n;

/** A span starting `startUs` µs after T0 and lasting `durUs` µs. */
function span(id: string, parent: string, name: string, startUs: number, durUs = 1, extra: MessageInitShape<typeof SpanSchema> = {}): Span {
  const start = T0 + BigInt(Math.round(startUs * 1000));
  return create(SpanSchema, {
    traceId: TRACE,
    spanId: id,
    parentSpanId: parent,
    name,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(Math.round(durUs * 1000)),
    source: SpanSource.CONTAINER,
    ...extra,
  });
}

const names = (node: SpanNode): string[] => node.children.map((c) => c.span?.name ?? '?');
const shape = (root: SpanNode): string[] => flattenTree(root).map((r) => `${r.depth}:${r.span.name}`);

describe('buildSpanTree', () => {
  it('always returns a synthetic root, even for a single real root', () => {
    const root = buildSpanTree([span('a1', '', 'only', 0)]);
    expect(root.span).toBeNull();
    expect(root.depth).toBe(-1);
    expect(names(root)).toEqual(['only']);
    expect(root.children[0]?.depth).toBe(0);
  });

  it('gives an empty root for no spans', () => {
    const root = buildSpanTree([]);
    expect(root).toEqual({ span: null, children: [], depth: -1 });
    expect(flattenTree(root)).toEqual([]);
    expect(formatSpanTree(root)).toBe('');
  });

  it('nests children under their parents whatever the input order', () => {
    const spans = [
      span('c3', 'b2', 'grandchild', 3),
      span('b2', 'a1', 'child', 2),
      span('a1', '', 'root', 1),
    ];
    expect(shape(buildSpanTree(spans))).toEqual(['0:root', '1:child', '2:grandchild']);
  });

  it('hangs spans whose parent is missing under the synthetic root, in start order', () => {
    const spans = [
      span('a1', '', 'root', 5),
      span('b2', 'ffffffffffffffff', 'orphan-late', 9),
      span('c3', 'eeeeeeeeeeeeeeee', 'orphan-early', 1),
      span('d4', 'c3', 'under-orphan', 2),
    ];
    const root = buildSpanTree(spans);
    expect(names(root)).toEqual(['orphan-early', 'root', 'orphan-late']);
    expect(shape(root)).toEqual(['0:orphan-early', '1:under-orphan', '0:root', '0:orphan-late']);
  });

  it('orders siblings by start time, then name, then span id', () => {
    const spans = [
      span('0000000000000009', 'a1', 'b', 2),
      span('0000000000000003', 'a1', 'b', 2),
      span('0000000000000001', 'a1', 'c', 2),
      span('0000000000000002', 'a1', 'a', 2),
      span('0000000000000005', 'a1', 'z', 1),
      span('a1', '', 'root', 0),
    ];
    const kids = buildSpanTree(spans).children[0]?.children.map((c) => `${c.span?.name}/${c.span?.spanId}`);
    expect(kids).toEqual(['z/0000000000000005', 'a/0000000000000002', 'b/0000000000000003', 'b/0000000000000009', 'c/0000000000000001']);
    // Same answer for any input order.
    const reversed = buildSpanTree([...spans].reverse()).children[0]?.children.map((c) => c.span?.spanId);
    expect(reversed).toEqual(kids?.map((k) => k.split('/')[1]));
  });

  it('compares start times as bigints (no precision lost past 2^53 ns)', () => {
    const late = span('b2', '', 'late', 0, 1, { startTimeUnixNano: T0 + 1n, endTimeUnixNano: T0 + 2n });
    const early = span('a1', '', 'early', 0, 1, { startTimeUnixNano: T0, endTimeUnixNano: T0 + 2n });
    expect(names(buildSpanTree([late, early]))).toEqual(['early', 'late']);
  });

  it('treats a span that is its own parent as an orphan', () => {
    const root = buildSpanTree([span('a1', 'a1', 'self', 0), span('b2', 'a1', 'kid', 1)]);
    expect(shape(root)).toEqual(['0:self', '1:kid']);
  });

  it('breaks parent cycles: every span on the cycle becomes an orphan, and nothing is lost', () => {
    const spans = [
      span('a1', 'c3', 'a', 0),
      span('b2', 'a1', 'b', 1),
      span('c3', 'b2', 'c', 2),
      span('d4', 'b2', 'hangs-off-cycle', 3),
      span('e5', '', 'real-root', 4),
    ];
    const root = buildSpanTree(spans);
    expect(names(root)).toEqual(['a', 'b', 'c', 'real-root']);
    expect(shape(root)).toEqual(['0:a', '0:b', '1:hangs-off-cycle', '0:c', '0:real-root']);
  });

  it('breaks a cycle reached only through a chain leading into it', () => {
    // x -> y -> z -> y: y and z form the cycle, x is an ordinary child of y.
    const spans = [span('01', '02', 'x', 5), span('02', '03', 'y', 1), span('03', '02', 'z', 2)];
    expect(shape(buildSpanTree(spans))).toEqual(['0:y', '1:x', '0:z']);
  });

  it('handles very deep chains without recursion', () => {
    const spans: Span[] = [];
    for (let i = 0; i < 50_000; i++) spans.push(span(`s${i}`, i ? `s${i - 1}` : '', `n${i}`, i));
    const rows = flattenTree(buildSpanTree(spans));
    expect(rows).toHaveLength(50_000);
    expect(rows.at(-1)?.depth).toBe(49_999);
  });

  it('keeps spans with duplicate ids; children attach to the first', () => {
    const spans = [span('a1', '', 'first', 0), span('a1', '', 'second', 1), span('b2', 'a1', 'kid', 2)];
    expect(shape(buildSpanTree(spans))).toEqual(['0:first', '1:kid', '0:second']);
  });
});

describe('flattenTree', () => {
  it('lists rows in display order with depth, skipping collapsed subtrees', () => {
    const spans = [
      span('a1', '', 'root', 0),
      span('b2', 'a1', 'one', 1),
      span('c3', 'b2', 'one.one', 2),
      span('d4', 'a1', 'two', 3),
    ];
    const root = buildSpanTree(spans);
    expect(flattenTree(root).map((r) => [r.depth, r.span.spanId])).toEqual([
      [0, 'a1'],
      [1, 'b2'],
      [2, 'c3'],
      [1, 'd4'],
    ]);
    expect(shape(root)).toEqual(['0:root', '1:one', '2:one.one', '1:two']);
    const collapsed = flattenTree(root, { collapsed: new Set(['b2']) });
    expect(collapsed.map((r) => r.span.name)).toEqual(['root', 'one', 'two']);
    expect(collapsed[1]?.node.children).toHaveLength(1);
  });
});

describe('formatSpanTree', () => {
  const host = { source: SpanSource.HOST };
  const tree = (): SpanNode =>
    buildSpanTree([
      span('0000000000000001', '', 'docker.execute', 0, 812_400, host),
      span('0000000000000002', '0000000000000001', 'docker.image', 10, 200, host),
      span('0000000000000003', '0000000000000001', 'load_data', 300, 1_100),
      span('0000000000000004', '0000000000000003', 'read_csv', 310, 800),
      span('0000000000000005', '0000000000000001', 'save_results', 2_000, 300, {
        status: SpanStatus.ERROR,
        statusMessage: 'ValueError: bad',
      }),
    ]);

  it("prints the guide's example exactly", () => {
    expect(formatSpanTree(tree())).toBe(
      [
        'docker.execute (host) 812.4 ms',
        '├── docker.image (host) 0.2 ms',
        '├── load_data (container) 1.1 ms',
        '│   └── read_csv (container) 0.8 ms',
        '└── save_results (container) 0.3 ms  ✗ ValueError: bad',
      ].join('\n'),
    );
  });

  it('omits durations when asked, and draws guides for nested non-last children', () => {
    const root = buildSpanTree([
      span('a1', '', 'root', 0),
      span('b2', 'a1', 'b', 1),
      span('c3', 'b2', 'c', 2),
      span('d4', 'c3', 'd', 3),
      span('e5', 'b2', 'e', 4, 1, { status: SpanStatus.ERROR }),
      span('f6', 'a1', 'f', 5),
      span('99', 'gone', 'orphan', 6, 1, { source: SpanSource.UNSPECIFIED }),
    ]);
    expect(formatSpanTree(root, { durations: false })).toBe(
      [
        'root (container)',
        '├── b (container)',
        '│   ├── c (container)',
        '│   │   └── d (container)',
        '│   └── e (container)  ✗',
        '└── f (container)',
        'orphan (unknown)',
      ].join('\n'),
    );
  });

  it('keeps untrusted names and messages on one line and free of control characters', () => {
    const root = buildSpanTree([
      span('a1', '', 'evil\n\x1b[2Jname', 0, 1, {
        status: SpanStatus.ERROR,
        statusMessage: 'Traceback:\n  line 1\r\nBoom\u202e' + 'x'.repeat(300),
      }),
    ]);
    const text = formatSpanTree(root, { durations: false });
    expect(text).not.toMatch(/[\n\r\u001b\u202e]/); // eslint-disable-line no-control-regex
    expect(text.startsWith('evil \ufffd[2Jname (container)  ✗ Traceback: line 1 Boom\ufffdxxx')).toBe(true);
    expect(text.endsWith('x…')).toBe(true);
  });
});

describe('formatDuration', () => {
  const d = (ns: bigint): string => formatDuration({ startTimeUnixNano: T0, endTimeUnixNano: T0 + ns });
  it.each([
    [0n, '0 ns'],
    [999n, '999 ns'],
    [1_000n, '1.0 µs'],
    [42_340n, '42.3 µs'],
    [100_000n, '0.1 ms'],
    [812_400_000n, '812.4 ms'],
    [9_999_900_000n, '9999.9 ms'],
    [10_000_000_000n, '10.0 s'],
    [301_250_000_000n, '301.3 s'],
  ])('picks a readable unit: %s ns is %s', (ns, text) => {
    expect(d(ns)).toBe(text);
  });
  it('shows a negative duration (end before start) as zero', () => {
    expect(formatDuration({ startTimeUnixNano: T0, endTimeUnixNano: T0 - 5n })).toBe('0 ns');
  });
});
