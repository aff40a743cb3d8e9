// A stored trace turned into what the views draw: the tree model, the stored spans by id, and
// the critical path. A big trace is drawn in two steps: its head (the first rows in display
// order, with the whole trace's time bounds and counts) as soon as it arrives, then the whole.
import type { TraceHead, TraceRecord, TraceSpan } from '../../../../shared/api';
import { criticalPath } from '../../../../shared/traces/critical-path';
import { toViewSpan } from '../../../../shared/traces/view-span';
import { buildTraceModel, type TraceModel } from '../../lib/spans';

export interface TraceData {
  /** While `partial`, the head's spans only. */
  record: TraceRecord;
  model: TraceModel;
  stored: Map<string, TraceSpan>;
  /** Empty while partial: the path needs every span. */
  critical: Set<string>;
  /** Only the head has arrived: the flame graph, the comparison and the critical path wait for the rest. */
  partial: boolean;
}

export function traceData(record: TraceRecord): TraceData {
  const model = buildTraceModel(record.spans.map(toViewSpan));
  return { record, model, stored: storedById(record.spans), critical: criticalPath(model.root), partial: false };
}

/** The head as a model of the whole trace's size and scale, holding only the head's rows. */
export function headData(head: TraceHead): TraceData {
  const model = buildTraceModel(head.spans.map(toViewSpan));
  const startNs = nanos(head.startTimeUnixNano);
  const endNs = nanos(head.endTimeUnixNano);
  return {
    record: { summary: head.summary, spans: head.spans },
    model: { ...model, startNs, endNs: endNs < startNs ? startNs : endNs, spanCount: head.summary.spanCount, errorCount: head.summary.errorCount },
    stored: storedById(head.spans),
    critical: new Set(),
    partial: head.spans.length < head.summary.spanCount,
  };
}

function storedById(spans: readonly TraceSpan[]): Map<string, TraceSpan> {
  const stored = new Map<string, TraceSpan>();
  for (const span of spans) stored.set(span.spanId, span);
  return stored;
}

function nanos(text: string): bigint {
  return /^\d{1,20}$/.test(text) ? BigInt(text) : 0n;
}
