// Spans arrive as proto3 JSON (times as decimal strings, enums as names). The shared tree code
// works on the protobuf-es message shape, so they are converted here, by hand rather than with
// fromJson(SpanSchema): a trace can hold 100,000 spans and reflection-based parsing of each
// one costs several times more. Untrusted input: a bad time becomes 0, never an exception.
import { buildSpanTree, type SpanNode } from '../../../shared/span-tree';
import { SpanSource, SpanStatus, type Span, type SpanJson } from '../../../shared/gen/loom/v1/docker_pb';
import type { JsonObject } from '@bufbuild/protobuf';

const STATUS: Record<string, SpanStatus> = {
  SPAN_STATUS_OK: SpanStatus.OK,
  SPAN_STATUS_ERROR: SpanStatus.ERROR,
};
const SOURCE: Record<string, SpanSource> = {
  SPAN_SOURCE_HOST: SpanSource.HOST,
  SPAN_SOURCE_CONTAINER: SpanSource.CONTAINER,
};

function nanos(value: string | undefined): bigint {
  if (!value || !/^\d{1,20}$/.test(value)) return 0n;
  return BigInt(value);
}

export function spanFromJson(json: SpanJson): Span {
  return {
    $typeName: 'loom.v1.Span',
    traceId: json.traceId ?? '',
    spanId: json.spanId ?? '',
    parentSpanId: json.parentSpanId ?? '',
    name: json.name ?? '',
    startTimeUnixNano: nanos(json.startTimeUnixNano),
    endTimeUnixNano: nanos(json.endTimeUnixNano),
    attributes: json.attributes as JsonObject | undefined,
    status: (json.status && STATUS[json.status]) ?? SpanStatus.UNSPECIFIED,
    statusMessage: json.statusMessage ?? '',
    source: (json.source && SOURCE[json.source]) ?? SpanSource.UNSPECIFIED,
  };
}

export function sourceLabel(source: SpanSource): 'host' | 'container' | 'unknown' {
  return source === SpanSource.HOST ? 'host' : source === SpanSource.CONTAINER ? 'container' : 'unknown';
}

export function statusLabel(status: SpanStatus): 'ok' | 'error' | 'unset' {
  return status === SpanStatus.OK ? 'ok' : status === SpanStatus.ERROR ? 'error' : 'unset';
}

export interface TraceModel {
  root: SpanNode;
  /** The earliest start and latest end: the waterfall's 0 % and 100 %. */
  startNs: bigint;
  endNs: bigint;
  spanCount: number;
  errorCount: number;
  /** Span ids with children (the rows that can collapse). */
  parents: Set<string>;
}

export function buildTraceModel(spans: readonly Span[]): TraceModel {
  let startNs = 0n;
  let endNs = 0n;
  let errorCount = 0;
  for (const span of spans) {
    if (span.startTimeUnixNano > 0n && (startNs === 0n || span.startTimeUnixNano < startNs)) startNs = span.startTimeUnixNano;
    if (span.endTimeUnixNano > endNs) endNs = span.endTimeUnixNano;
    if (span.status === SpanStatus.ERROR) errorCount += 1;
  }
  if (endNs < startNs) endNs = startNs;
  const root = buildSpanTree(spans);
  const parents = new Set<string>();
  const stack: SpanNode[] = [...root.children];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.children.length > 0 && node.span) {
      parents.add(node.span.spanId);
      for (const child of node.children) stack.push(child);
    }
  }
  return { root, startNs, endNs, spanCount: spans.length, errorCount, parents };
}

/** Where a span's bar sits on the waterfall, as fractions of the trace's duration. */
export function barGeometry(span: Span, model: Pick<TraceModel, 'startNs' | 'endNs'>): { left: number; width: number } {
  const total = Number(model.endNs - model.startNs);
  if (total <= 0 || span.startTimeUnixNano === 0n) return { left: 0, width: 0 };
  const start = Number(span.startTimeUnixNano - model.startNs);
  const end = span.endTimeUnixNano > span.startTimeUnixNano ? Number(span.endTimeUnixNano - model.startNs) : start;
  const left = clamp(start / total);
  return { left, width: clamp(end / total) - left };
}

const clamp = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Nanoseconds as a compact label for offsets and ticks: 0, 850 µs, 12.5 ms, 3.20 s. */
export function formatNanos(ns: number): string {
  if (ns <= 0) return '0';
  if (ns < 1_000) return `${Math.round(ns)} ns`;
  if (ns < 1_000_000) return `${trim(ns / 1_000)} µs`;
  if (ns < 1_000_000_000) return `${trim(ns / 1_000_000)} ms`;
  return `${trim(ns / 1_000_000_000)} s`;
}

function trim(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
