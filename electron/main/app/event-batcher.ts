// A program can print thousands of small chunks a second, and each event crosses IPC or a
// WebSocket to be rendered: delivered one by one they would drown the UI. Output and span
// events are held for a short interval and merged; merging joins only neighbours of the same
// kind, so stdout and stderr still arrive interleaved exactly as the program wrote them.
import { create } from '@bufbuild/protobuf';
import { ExecuteEventSchema, type ExecuteEvent, type Span } from '../../../shared/gen/loom/v1/docker_pb';

export const DEFAULT_BATCH_INTERVAL_MS = 30;
// What is held at most before it is handed over without waiting for the interval, so that a
// flood becomes a stream of events of a sensible size instead of a few huge messages: the page
// parses each in one task, and a 1 MB one took it past 100 ms on a busy 2-core machine.
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_BATCH_SPANS = 5_000;

type Segment = { kind: 'stdout' | 'stderr'; chunks: Uint8Array[]; bytes: number } | { kind: 'spans'; spans: Span[] };

export class EventBatcher {
  private pending: Segment[] = [];
  private heldBytes = 0;
  private heldSpans = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deliver: (event: ExecuteEvent) => void,
    private readonly intervalMs = DEFAULT_BATCH_INTERVAL_MS,
  ) {}

  push(event: ExecuteEvent): void {
    const e = event.event;
    switch (e.case) {
      case 'stdout':
      case 'stderr':
        this.addOutput(e.case, e.value);
        return;
      case 'spans':
        this.addSpans(e.value.spans);
        return;
      default:
        // Anything else (a phase, the final response) must not overtake the output before it.
        this.flush();
        this.deliver(event);
    }
  }

  /** Delivers everything held, in arrival order. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const segments = this.pending;
    this.pending = [];
    this.heldBytes = 0;
    this.heldSpans = 0;
    for (const s of segments) {
      this.deliver(
        create(ExecuteEventSchema, {
          event: s.kind === 'spans' ? { case: 'spans', value: { spans: s.spans } } : { case: s.kind, value: concat(s.chunks, s.bytes) },
        }),
      );
    }
  }

  private addOutput(kind: 'stdout' | 'stderr', chunk: Uint8Array): void {
    const last = this.pending.at(-1);
    if (last?.kind === kind) {
      last.chunks.push(chunk);
      last.bytes += chunk.length;
    } else {
      this.pending.push({ kind, chunks: [chunk], bytes: chunk.length });
    }
    this.heldBytes += chunk.length;
    this.schedule();
  }

  private addSpans(spans: Span[]): void {
    const last = this.pending.at(-1);
    // A loop, not push(...spans): a tick can bring more spans than a call takes arguments.
    if (last?.kind === 'spans') for (const span of spans) last.spans.push(span);
    else this.pending.push({ kind: 'spans', spans: [...spans] });
    this.heldSpans += spans.length;
    this.schedule();
  }

  private schedule(): void {
    if (this.heldBytes >= MAX_BATCH_BYTES || this.heldSpans >= MAX_BATCH_SPANS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }
}

function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  return Buffer.concat(chunks, bytes);
}
