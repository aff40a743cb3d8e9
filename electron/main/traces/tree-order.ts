// A trace's display order from its rows' ids, parents, names and start times alone: the span
// tree is built by shared/span-tree.ts (the code the view itself uses, so the order is the
// view's, orphans and parent cycles included) over stand-ins that carry only those fields.
import { buildSpanTree, flattenTree } from '../../../shared/span-tree';
import { SpanSource, SpanStatus, type Span } from '../../../shared/gen/loom/v1/docker_pb';

export interface LightRow {
  span_id: string;
  parent_span_id: string;
  name: string;
  /** Nanoseconds as decimal text (the INTEGER column cast to TEXT). */
  start_ns: string;
  end_ns: string;
}

export interface TreeOrder {
  /** The first span ids in display order. */
  order: string[];
  /** The earliest non-zero start and the latest end, as the view's model computes them. */
  startNs: bigint;
  endNs: bigint;
}

function nanos(text: string): bigint {
  return /^\d{1,20}$/.test(text) ? BigInt(text) : 0n;
}

export function treeOrder(rows: readonly LightRow[], limit: number): TreeOrder {
  let startNs = 0n;
  let endNs = 0n;
  const spans = rows.map((row): Span => {
    const start = nanos(row.start_ns);
    const end = nanos(row.end_ns);
    if (start > 0n && (startNs === 0n || start < startNs)) startNs = start;
    if (end > endNs) endNs = end;
    return {
      $typeName: 'loom.v1.Span',
      traceId: '',
      spanId: row.span_id,
      parentSpanId: row.parent_span_id,
      name: row.name,
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      status: SpanStatus.UNSPECIFIED,
      statusMessage: '',
      source: SpanSource.UNSPECIFIED,
    };
  });
  if (endNs < startNs) endNs = startNs;
  const order: string[] = [];
  if (limit > 0) {
    for (const row of flattenTree(buildSpanTree(spans))) {
      order.push(row.span.spanId);
      if (order.length >= limit) break;
    }
  }
  return { order, startNs, endNs };
}
