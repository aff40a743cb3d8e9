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

describe('batched writes and paged reads', () => {
  // Spans with every field set, and with every field at its default (left out of the row's JSON).
  function varied(traceId: string, n: number): TraceSpan {
    const id = (k: number): string => (k + 1).toString(16).padStart(16, '0');
    const base = span({ traceId, spanId: id(n), parentSpanId: n === 0 ? '' : id(Math.floor((n - 1) / 3)), name: `op.${n % 7}` }, n % 50, 5);
    switch (n % 4) {
      case 0:
        return { ...base, service: '', resource: {}, scope: '', kind: 0 };
      case 1:
        return {
          ...base,
          kind: 3,
          attributes: { 'http.status_code': 200 + n, big: '9007199254740993', list: [1, 'a', null], map: { k: true } },
          resource: { 'service.name': 'agent', 'process.pid': n },
          status: 'error',
          statusMessage: `failed ${n}`,
          events: [{ timeUnixNano: base.startTimeUnixNano, name: 'retry', attributes: { attempt: 2 } }],
          links: [{ traceId: T2, spanId: 'd000000000000001', attributes: {} }],
          source: 'container',
        };
      case 2:
        return { ...base, service: 'tools', resource: { 'service.name': 'tools' }, status: 'ok', source: 'host' };
      default:
        // A resource that names another service than the span's: kept as sent.
        return { ...base, resource: { 'service.name': 'elsewhere' } };
    }
  }
  const byId = (spans: readonly TraceSpan[]): TraceSpan[] => [...spans].sort((a, b) => (a.spanId < b.spanId ? -1 : 1));

  it('stores exactly what was sent, over several insert chunks, duplicates once', () => {
    const s = store();
    const sent = Array.from({ length: 700 }, (_, n) => varied(T1, n));
    const other = Array.from({ length: 5 }, (_, n) => varied(T2, n));
    // Interleaved traces, and a span twice in one call.
    const first = s.add([...sent.slice(0, 300), ...other, sent[5] as TraceSpan]);
    expect(first).toMatchObject({ stored: 305, dropped: 1 });
    // A retry of some already stored, with new ones.
    const second = s.add(sent.slice(250, 700));
    expect(second).toMatchObject({ stored: 400, dropped: 50 });
    expect(byId(s.get(T1)?.spans ?? [])).toEqual(byId(sent));
    expect(byId(s.get(T2)?.spans ?? [])).toEqual(byId(other));
    const summary = s.list().find((t) => t.traceId === T1);
    expect(summary).toMatchObject({ spanCount: 700, errorCount: sent.filter((x) => x.status === 'error').length, complete: true, rootName: 'op.0' });
    expect(summary?.services).toEqual(['', 'agent', 'tools'].filter(Boolean));
  });

  it('the per-trace limit holds across chunks', () => {
    const s = store({ maxSpansPerTrace: 300 });
    expect(s.add(Array.from({ length: 500 }, (_, n) => varied(T1, n)))).toMatchObject({ stored: 300, dropped: 200 });
    expect(s.list()[0]).toMatchObject({ spanCount: 300, droppedSpans: 200 });
    expect(s.get(T1)?.spans).toHaveLength(300);
  });

  it('a head is the start of the whole trace in display order, with its time bounds', () => {
    const s = store();
    const spans = Array.from({ length: 400 }, (_, n) => varied(T1, n));
    // Same start, sorted by name then id; an orphan; a parent cycle; children sent before parents.
    spans.push(span({ spanId: 'f000000000000001', parentSpanId: 'ffffffffffffffff', name: 'orphan' }, 3, 1));
    spans.push(span({ spanId: 'f000000000000002', parentSpanId: 'f000000000000003', name: 'cycle.a' }, 4, 1));
    spans.push(span({ spanId: 'f000000000000003', parentSpanId: 'f000000000000002', name: 'cycle.b' }, 4, 1));
    spans.push(span({ spanId: 'f000000000000004', parentSpanId: '0000000000000001', name: 'op.0', startTimeUnixNano: '1700000000000000001', endTimeUnixNano: '1700000999000000001' }));
    s.add(spans.slice(200).reverse());
    s.add(spans.slice(0, 200));
    const whole = s.get(T1);
    if (!whole) throw new Error('no trace');
    const displayed = flattenTree(buildSpanTree(whole.spans.map(toViewSpan))).map((r) => r.span.spanId);
    const stored = new Map(whole.spans.map((x) => [x.spanId, x]));
    for (const limit of [0, 1, 37, 404, 10_000]) {
      const head = s.head(T1, limit);
      expect(head?.spans.map((x) => x.spanId)).toEqual(displayed.slice(0, limit));
      expect(head?.spans).toEqual(displayed.slice(0, limit).map((id) => stored.get(id)));
    }
    const starts = whole.spans.map((x) => BigInt(x.startTimeUnixNano));
    const ends = whole.spans.map((x) => BigInt(x.endTimeUnixNano));
    const head = s.head(T1, 10);
    expect(head?.startTimeUnixNano).toBe(starts.reduce((a, b) => (b < a ? b : a)).toString());
    expect(head?.endTimeUnixNano).toBe('1700000999000000001');
    expect(head?.endTimeUnixNano).toBe(ends.reduce((a, b) => (b > a ? b : a)).toString());
    expect(head?.summary.spanCount).toBe(404);
    expect(s.head(T2, 10)).toBeNull();
  });

  it('reads and pages a store written by schema version 1 (whole spans in the JSON)', async () => {
    const path = join(dir, 'history.sqlite');
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path);
    db.exec(`
      CREATE TABLE trace_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO trace_meta VALUES ('version', '1');
      CREATE TABLE trace_spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL, name TEXT NOT NULL, service TEXT NOT NULL, start_ms REAL NOT NULL, span_json TEXT NOT NULL, UNIQUE (trace_id, span_id));
      CREATE TABLE traces (trace_id TEXT PRIMARY KEY, root_name TEXT NOT NULL, root_service TEXT NOT NULL, root_start_ms REAL NOT NULL, complete INTEGER NOT NULL, services TEXT NOT NULL,
        start_ms REAL NOT NULL, end_ms REAL NOT NULL, span_count INTEGER NOT NULL, error_count INTEGER NOT NULL, bytes INTEGER NOT NULL, dropped INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    `);
    const old = [agentStep, toolCall, { ...run, attributes: { k: 'v' } }];
    for (const x of old) db.prepare('INSERT INTO trace_spans VALUES (?, ?, ?, ?, ?, ?)').run(x.traceId, x.spanId, x.name, x.service, 0, JSON.stringify(x));
    db.prepare('INSERT INTO traces VALUES (?, ?, ?, 0, 1, ?, 0, 0, 3, 0, 0, 0, ?)').run(T1, 'agent.step', 'agent', '["agent"]', Date.now());
    db.close();
    const s = store();
    expect(byId(s.get(T1)?.spans ?? [])).toEqual(byId(old));
    expect(s.head(T1, 3)?.spans.map((x) => x.name)).toEqual(['agent.step', 'tool.call', 'docker.execute']);
    expect(s.head(T1, 3)?.startTimeUnixNano).toBe(agentStep.startTimeUnixNano);
  });
});
