// The trace store on a real SQLite file: joining a run to its parent in either order, the
// filters of the Traces view, and retention by age, size and per trace.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSpanTree, flattenTree } from '../../../shared/span-tree';
import type { TraceSpan } from '../../../shared/traces/types';
import { toViewSpan } from '../../../shared/traces/view-span';
import { TraceStore, type TraceStoreOptions } from './trace-store';

let dir: string;
const stores: TraceStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loom-traces-test-'));
});
afterEach(async () => {
  for (const s of stores.splice(0)) s.close();
  await rm(dir, { recursive: true, force: true });
});

function store(options: TraceStoreOptions = {}): TraceStore {
  const s = new TraceStore(join(dir, 'history.sqlite'), options);
  stores.push(s);
  return s;
}

const T1 = '11111111111111111111111111111111';
const T2 = '22222222222222222222222222222222';
const MS = 1_000_000n;
const BASE = 1_700_000_000_000n * MS;

function span(over: Partial<TraceSpan> & { spanId: string; name: string }, startMs = 0, durationMs = 10): TraceSpan {
  return {
    traceId: T1,
    parentSpanId: '',
    kind: 1,
    startTimeUnixNano: String(BASE + BigInt(startMs) * MS),
    endTimeUnixNano: String(BASE + BigInt(startMs + durationMs) * MS),
    service: 'agent',
    scope: 's',
    attributes: {},
    resource: { 'service.name': over.service ?? 'agent' },
    status: 'unset',
    statusMessage: '',
    events: [],
    links: [],
    source: 'external',
    ...over,
  };
}

// An agent step with a tool call; the sandbox run (docker.execute) is a child of the tool call.
const agentStep = span({ spanId: 'a000000000000001', name: 'agent.step' }, 0, 100);
const toolCall = span({ spanId: 'a000000000000002', parentSpanId: 'a000000000000001', name: 'tool.call' }, 10, 80);
const run = span({ spanId: 'b000000000000001', parentSpanId: 'a000000000000002', name: 'docker.execute', service: 'loom-sandbox', source: 'host' }, 20, 50);
const program = span({ spanId: 'b000000000000002', parentSpanId: 'b000000000000001', name: 'load_data', service: 'loom-sandbox', source: 'container' }, 30, 5);

function treeOf(s: TraceStore, traceId: string): string[] {
  const record = s.get(traceId);
  if (!record) throw new Error('no trace');
  return flattenTree(buildSpanTree(record.spans.map(toViewSpan))).map((r) => `${'  '.repeat(r.depth)}${r.span.name}`);
}

const NESTED = ['agent.step', '  tool.call', '    docker.execute', '      load_data'];

describe('joining a run to the trace it was started under', () => {
  it('the parent first, then the run', () => {
    const s = store();
    s.add([agentStep, toolCall]);
    s.add([run, program]);
    expect(treeOf(s, T1)).toEqual(NESTED);
    expect(s.list()[0]).toMatchObject({ rootName: 'agent.step', complete: true, spanCount: 4, services: ['agent', 'loom-sandbox'] });
  });

  it('the run first (the agent span is still open), then the parent', () => {
    const s = store();
    s.add([run, program]);
    // Until the parent arrives, the run stands alone, named after its earliest span.
    expect(s.list()[0]).toMatchObject({ rootName: 'docker.execute', complete: false, spanCount: 2 });
    expect(treeOf(s, T1)).toEqual(['docker.execute', '  load_data']);
    s.add([toolCall]);
    s.add([agentStep]);
    expect(treeOf(s, T1)).toEqual(NESTED);
    expect(s.list()[0]).toMatchObject({ rootName: 'agent.step', complete: true, spanCount: 4, durationMs: 100 });
  });

  it('a span sent twice is stored once', () => {
    const s = store();
    expect(s.add([agentStep, toolCall]).stored).toBe(2);
    expect(s.add([agentStep])).toMatchObject({ stored: 0, dropped: 1 });
    expect(s.list()[0]?.spanCount).toBe(2);
  });

  it('keeps events, links and exact nanoseconds', () => {
    const s = store();
    const rich = span({
      spanId: 'c000000000000001',
      name: 'rich',
      startTimeUnixNano: '1700000000123456789',
      endTimeUnixNano: '1700000000223456789',
      events: [{ timeUnixNano: '1700000000123456790', name: 'e', attributes: { k: 1 } }],
      links: [{ traceId: T2, spanId: 'd000000000000001', attributes: {} }],
    });
    s.add([rich]);
    expect(s.get(T1)?.spans[0]).toEqual(rich);
  });
});

describe('filters', () => {
  function seeded(): TraceStore {
    const s = store();
    s.add([agentStep, toolCall, run, program]);
    s.add([
      span({ traceId: T2, spanId: 'e000000000000001', name: 'checkout', service: 'shop', attributes: { 'http.status_code': 500, user: 'ann' }, status: 'error' }, 1000, 2000),
    ]);
    return s;
  }
  const ids = (s: TraceStore, q: Parameters<TraceStore['list']>[0]): string[] => s.list(q).map((t) => t.traceId);

  it('by service, span name, attribute, status, duration, time and text', () => {
    const s = seeded();
    expect(ids(s, {})).toEqual([T2, T1]);
    expect(ids(s, { service: 'shop' })).toEqual([T2]);
    expect(ids(s, { service: 'loom-sandbox' })).toEqual([T1]);
    expect(ids(s, { spanName: 'LOAD_' })).toEqual([T1]);
    expect(ids(s, { attributeKey: 'user' })).toEqual([T2]);
    expect(ids(s, { attributeKey: 'http.status_code', attributeValue: '500' })).toEqual([T2]);
    expect(ids(s, { attributeKey: 'http.status_code', attributeValue: '200' })).toEqual([]);
    expect(ids(s, { status: 'error' })).toEqual([T2]);
    expect(ids(s, { status: 'ok' })).toEqual([T1]);
    expect(ids(s, { minDurationMs: 1000 })).toEqual([T2]);
    expect(ids(s, { maxDurationMs: 100 })).toEqual([T1]);
    expect(ids(s, { fromMs: 1_700_000_000_500 })).toEqual([T2]);
    expect(ids(s, { toMs: 1_700_000_000_500 })).toEqual([T1]);
    expect(ids(s, { text: 'tool' })).toEqual([T1]);
    expect(ids(s, { text: '2222' })).toEqual([T2]);
    // LIKE's wildcards are text here.
    expect(ids(s, { text: '%' })).toEqual([]);
    expect(ids(s, { service: 'shop', spanName: 'load' })).toEqual([]);
  });
});

describe('retention', () => {
  it('by age', () => {
    let now = 1_000_000;
    const s = store({ maxAgeMs: 60_000, now: () => now });
    s.add([agentStep]);
    now += 30_000;
    s.add([span({ traceId: T2, spanId: 'e000000000000001', name: 'newer' })]);
    now += 40_000;
    expect(s.prune()).toBe(1);
    expect(s.list().map((t) => t.traceId)).toEqual([T2]);
    expect(s.get(T1)).toBeNull();
  });

  it('by total spans, least recently updated first', () => {
    let now = 1_000_000;
    const s = store({ maxSpans: 3, now: () => now });
    s.add([agentStep, toolCall]);
    now += 2000;
    s.add([span({ traceId: T2, spanId: 'e000000000000001', name: 'a' }), span({ traceId: T2, spanId: 'e000000000000002', name: 'b' })]);
    expect(s.list().map((t) => t.traceId)).toEqual([T2]);
  });

  it('by bytes', () => {
    let now = 1_000_000;
    const s = store({ maxBytes: 1500, now: () => now });
    s.add([span({ spanId: 'a000000000000001', name: 'x'.repeat(1000) })]);
    now += 2000;
    s.add([span({ traceId: T2, spanId: 'e000000000000001', name: 'y'.repeat(1000) })]);
    expect(s.list().map((t) => t.traceId)).toEqual([T2]);
  });

  it('per trace: spans past the limit are counted as dropped', () => {
    const s = store({ maxSpansPerTrace: 2 });
    s.add([agentStep, toolCall, run]);
    expect(s.list()[0]).toMatchObject({ spanCount: 2, droppedSpans: 1 });
  });

  it('another process (the CLI) reads what this one wrote', () => {
    store().add([agentStep, toolCall]);
    const reader = store();
    expect(reader.list()[0]).toMatchObject({ traceId: T1, spanCount: 2 });
  });
});
