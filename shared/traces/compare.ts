// Two traces side by side, as otel-front and Jaeger's trace comparison do it: spans are matched
// by their path of names from the root (agent.step > tool.call > docker.execute), the n-th
// span of a path in one trace with the n-th of the same path in the other (in start order).
// Each match says added, removed, slower, faster or same, with the attributes that differ.
import type { AttributeValue, TraceSpan } from './types';

export type SpanChange = 'added' | 'removed' | 'slower' | 'faster' | 'same';

export interface AttributeDiff {
  key: string;
  /** undefined: absent on that side. */
  before?: AttributeValue;
  after?: AttributeValue;
}

export interface SpanComparison {
  /** The names from the root down, joined by ' > ', with '#n' for the n-th repeat (from 2). */
  path: string;
  depth: number;
  change: SpanChange;
  beforeMs?: number;
  afterMs?: number;
  before?: TraceSpan;
  after?: TraceSpan;
  attributes: AttributeDiff[];
  /** The status changed (ok/error/unset). */
  statusChanged: boolean;
}

export interface CompareOptions {
  /** A duration change smaller than this fraction of the first is 'same'. Default 0.05. */
  relative?: number;
  /** ... or smaller than this many milliseconds. Default 0.05. */
  absoluteMs?: number;
}

export function compareTraces(before: readonly TraceSpan[], after: readonly TraceSpan[], options: CompareOptions = {}): SpanComparison[] {
  const relative = options.relative ?? 0.05;
  const absoluteMs = options.absoluteMs ?? 0.05;
  const a = byPath(before);
  const b = byPath(after);
  const rows: SpanComparison[] = [];
  const paths = [...new Set([...a.keys(), ...b.keys()])];
  for (const path of paths) {
    const x = a.get(path);
    const y = b.get(path);
    const depth = (x ?? y)?.depth ?? 0;
    if (x && !y) rows.push({ path, depth, change: 'removed', beforeMs: durationMs(x.span), before: x.span, attributes: [], statusChanged: false });
    else if (!x && y) rows.push({ path, depth, change: 'added', afterMs: durationMs(y.span), after: y.span, attributes: [], statusChanged: false });
    else if (x && y) {
      const beforeMs = durationMs(x.span);
      const afterMs = durationMs(y.span);
      const delta = afterMs - beforeMs;
      const significant = Math.abs(delta) >= absoluteMs && Math.abs(delta) >= beforeMs * relative;
      rows.push({
        path,
        depth,
        change: !significant ? 'same' : delta > 0 ? 'slower' : 'faster',
        beforeMs,
        afterMs,
        before: x.span,
        after: y.span,
        attributes: attributeDiffs(x.span, y.span),
        statusChanged: x.span.status !== y.span.status,
      });
    }
  }
  // Tree order: the first trace's paths in its pre-order, then those only the second has.
  const order = new Map<string, number>();
  [...a.keys(), ...b.keys()].forEach((p) => order.has(p) || order.set(p, order.size));
  return rows.sort((p, q) => comparePaths(p.path, q.path, order));
}

interface Placed {
  span: TraceSpan;
  depth: number;
}

/** Spans keyed by their path of names (repeats numbered in start order), in pre-order. */
function byPath(spans: readonly TraceSpan[]): Map<string, Placed> {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, TraceSpan[]>();
  const roots: TraceSpan[] = [];
  for (const span of spans) {
    if (span.parentSpanId && ids.has(span.parentSpanId) && span.parentSpanId !== span.spanId) {
      let list = children.get(span.parentSpanId);
      if (!list) children.set(span.parentSpanId, (list = []));
      list.push(span);
    } else roots.push(span);
  }
  const out = new Map<string, Placed>();
  const visited = new Set<string>();
  const stack: { span: TraceSpan; prefix: string; depth: number }[] = [];
  const pushLevel = (level: TraceSpan[], prefix: string, depth: number): void => {
    const sorted = [...level].sort((p, q) => (BigInt(p.startTimeUnixNano) < BigInt(q.startTimeUnixNano) ? -1 : BigInt(p.startTimeUnixNano) > BigInt(q.startTimeUnixNano) ? 1 : 0));
    const seen = new Map<string, number>();
    const named = sorted.map((span) => {
      const n = (seen.get(span.name) ?? 0) + 1;
      seen.set(span.name, n);
      const own = n === 1 ? span.name : `${span.name}#${n}`;
      return { span, prefix: prefix ? `${prefix} > ${own}` : own, depth };
    });
    for (let i = named.length - 1; i >= 0; i--) stack.push(named[i] as (typeof named)[number]);
  };
  pushLevel(roots, '', 0);
  for (let item = stack.pop(); item; item = stack.pop()) {
    // Cycles in untrusted parent links end here.
    if (visited.has(item.span.spanId)) continue;
    visited.add(item.span.spanId);
    out.set(item.prefix, { span: item.span, depth: item.depth });
    pushLevel(children.get(item.span.spanId) ?? [], item.prefix, item.depth + 1);
  }
  return out;
}

function comparePaths(p: string, q: string, order: Map<string, number>): number {
  return (order.get(p) ?? 0) - (order.get(q) ?? 0);
}

function durationMs(span: TraceSpan): number {
  const d = BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano);
  return d > 0n ? Number(d) / 1e6 : 0;
}

function attributeDiffs(x: TraceSpan, y: TraceSpan): AttributeDiff[] {
  const keys = [...new Set([...Object.keys(x.attributes), ...Object.keys(y.attributes)])].sort();
  const diffs: AttributeDiff[] = [];
  for (const key of keys) {
    const inX = Object.hasOwn(x.attributes, key);
    const inY = Object.hasOwn(y.attributes, key);
    const before = x.attributes[key];
    const after = y.attributes[key];
    if (inX && inY && JSON.stringify(before) === JSON.stringify(after)) continue;
    diffs.push({ key, ...(inX ? { before } : {}), ...(inY ? { after } : {}) });
  }
  return diffs;
}
