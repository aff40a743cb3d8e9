// The spans of one execution as they arrive: host spans as each phase ends, container spans
// as the agent carries them out. Live delivery is batched per tick, so a flood of spans
// becomes a few hundred events rather than one per span.
import type { ExecuteResponse, Span } from '../../../../shared/gen/loom/v1/docker_pb';
import { parseContainerSpanLine } from './container-spans';

export const DEFAULT_MAX_SPANS = 250_000;

export class ExecutionTrace {
  readonly spans: Span[] = [];
  malformed = 0;
  dropped = 0;
  private pending: Span[] = [];
  private scheduled = false;

  constructor(
    readonly traceId: string,
    private readonly onBatch: (spans: Span[]) => void,
    private readonly maxSpans = DEFAULT_MAX_SPANS,
  ) {}

  add(span: Span): void {
    if (this.spans.length >= this.maxSpans) {
      this.dropped++;
      return;
    }
    this.spans.push(span);
    this.pending.push(span);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliver());
    }
  }

  /** One line the in-container library wrote; anything invalid is counted and dropped. */
  addContainerLine(line: string): void {
    const span = parseContainerSpanLine(line, this.traceId);
    if (span) this.add(span);
    else this.malformed++;
  }

  /** Delivers what is pending now (before the final response, so no span is announced late). */
  deliver(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.onBatch(batch);
  }

  /** Delivers what is pending and puts the trace on the final response (its id, spans and counts). */
  complete(response: ExecuteResponse): ExecuteResponse {
    this.deliver();
    response.traceId = this.traceId;
    response.spans = this.spans;
    response.malformedSpans = this.malformed;
    response.droppedSpans = this.dropped;
    return response;
  }
}
