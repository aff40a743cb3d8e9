// A stored trace turned into what the views draw: the tree model, the stored spans by id, and
// the critical path.
import type { TraceRecord, TraceSpan } from '../../../../shared/api';
import { criticalPath } from '../../../../shared/traces/critical-path';
import { toViewSpan } from '../../../../shared/traces/view-span';
import { buildTraceModel, type TraceModel } from '../../lib/spans';

export interface TraceData {
  record: TraceRecord;
  model: TraceModel;
  stored: Map<string, TraceSpan>;
  critical: Set<string>;
}

export function traceData(record: TraceRecord): TraceData {
  const model = buildTraceModel(record.spans.map(toViewSpan));
  const stored = new Map<string, TraceSpan>();
  for (const span of record.spans) stored.set(span.spanId, span);
  return { record, model, stored, critical: criticalPath(model.root) };
}
