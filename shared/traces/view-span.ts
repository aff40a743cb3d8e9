// A stored span in the message shape the tree and waterfall code works on (shared/span-tree.ts,
// the trace view). Built by hand, as renderer/src/lib/spans.ts does, for speed at 100,000 spans.
import type { JsonObject } from '@bufbuild/protobuf';
import { SpanSource, SpanStatus, type Span } from '../gen/loom/v1/docker_pb';
import type { TraceSpan } from './types';

const SOURCES = { host: SpanSource.HOST, container: SpanSource.CONTAINER, external: SpanSource.UNSPECIFIED } as const;
const STATUSES = { ok: SpanStatus.OK, error: SpanStatus.ERROR, unset: SpanStatus.UNSPECIFIED } as const;

function nanos(value: string): bigint {
  return /^\d{1,20}$/.test(value) ? BigInt(value) : 0n;
}

export function toViewSpan(span: TraceSpan): Span {
  return {
    $typeName: 'loom.v1.Span',
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    startTimeUnixNano: nanos(span.startTimeUnixNano),
    endTimeUnixNano: nanos(span.endTimeUnixNano),
    attributes: span.attributes as JsonObject,
    status: STATUSES[span.status] ?? SpanStatus.UNSPECIFIED,
    statusMessage: span.statusMessage,
    source: SOURCES[span.source] ?? SpanSource.UNSPECIFIED,
  };
}
