// Loom's own spans (a run's host phases and the program's spans from the sandbox) in the trace
// store's form, and the TraceSink that puts every finished run's trace there.
import type { Span } from '../../../shared/gen/loom/v1/docker_pb';
import { SpanSource, SpanStatus } from '../../../shared/gen/loom/v1/docker_pb';
import type { Attributes, TraceSpan } from '../../../shared/traces/types';
import type { TraceSink } from '../engine/tracing/tracer';

export const LOOM_SERVICE = 'loom-sandbox';
const RESOURCE: Attributes = { 'service.name': LOOM_SERVICE };

export function traceSpanOfRun(span: Span): TraceSpan {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: 1,
    startTimeUnixNano: span.startTimeUnixNano.toString(),
    endTimeUnixNano: span.endTimeUnixNano.toString(),
    service: LOOM_SERVICE,
    scope: span.source === SpanSource.CONTAINER ? 'loom.container' : 'loom.host',
    attributes: (span.attributes ?? {}) as Attributes,
    resource: RESOURCE,
    status: span.status === SpanStatus.OK ? 'ok' : span.status === SpanStatus.ERROR ? 'error' : 'unset',
    statusMessage: span.statusMessage,
    events: [],
    links: [],
    source: span.source === SpanSource.CONTAINER ? 'container' : 'host',
  };
}

/** Hands each finished run's spans to `add`; a failure goes to onError, never to the run. */
export class TraceStoreSink implements TraceSink {
  constructor(
    private readonly add: (spans: TraceSpan[]) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  export(spans: Span[]): void {
    try {
      if (spans.length) this.add(spans.map(traceSpanOfRun));
    } catch (err) {
      this.onError(err);
    }
  }

  async shutdown(): Promise<void> {}
}
