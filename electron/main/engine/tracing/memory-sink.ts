// Keeps recent traces in memory for the UI and the CLI. Bounded, because the app runs for days:
// the least recently exported trace is dropped first.

import type { Span } from '../../../../shared/gen/loom/v1/docker_pb';
import type { TraceSink } from './tracer';

export const DEFAULT_MAX_TRACES = 100;

export class MemorySink implements TraceSink {
  // Map order is the eviction order; a trace that receives spans again moves to the end, so a
  // trace still being exported in batches is not evicted while it is the newest activity.
  private readonly byTrace = new Map<string, Map<string, Span>>();

  constructor(private readonly maxTraces = DEFAULT_MAX_TRACES) {
    if (!Number.isInteger(maxTraces) || maxTraces < 1) throw new RangeError(`maxTraces must be a positive integer, got ${maxTraces}`);
  }

  export(spans: Span[]): void {
    for (const span of spans) {
      let trace = this.byTrace.get(span.traceId);
      if (trace) this.byTrace.delete(span.traceId);
      else trace = new Map();
      this.byTrace.set(span.traceId, trace);
      // A span exported twice (a retry) replaces the earlier copy instead of appearing twice.
      trace.set(span.spanId, span);
    }
    for (const oldest of this.byTrace.keys()) {
      if (this.byTrace.size <= this.maxTraces) break;
      this.byTrace.delete(oldest);
    }
  }

  /** The spans of one trace in the order they first arrived; [] for an unknown trace. */
  spans(traceId: string): Span[] {
    return [...(this.byTrace.get(traceId)?.values() ?? [])];
  }

  /** The trace ids held, least recently exported first. */
  traces(): string[] {
    return [...this.byTrace.keys()];
  }

  clear(): void {
    this.byTrace.clear();
  }

  async shutdown(): Promise<void> {}
}
