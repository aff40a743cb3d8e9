// The spans of one run as they arrive: live batches while the program runs, then the
// response's complete list. Mutable and outside React state on purpose: a busy program can
// send thousands of spans a second, and copying a 100,000-element array per batch would cost
// more than the rendering. The array is appended to in place: readers key their memos on
// `version`, not on the array's identity.
import type { Span, SpanJson } from '../../../shared/gen/loom/v1/docker_pb';
import { spanFromJson } from './spans';

type Listener = () => void;

export class SpanList {
  private list: Span[] = [];
  private readonly ids = new Set<string>();
  private readonly listeners = new Set<Listener>();
  version = 0;

  get spans(): readonly Span[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  /** Adds a live batch; a span already present (same id) is not added twice. */
  add(batch: readonly SpanJson[]): void {
    if (batch.length === 0) return;
    const next = this.list;
    for (const json of batch) {
      const span = spanFromJson(json);
      const key = `${span.traceId}/${span.spanId}`;
      if (this.ids.has(key)) continue;
      this.ids.add(key);
      next.push(span);
    }
    this.changed();
  }

  /** The complete list from the response replaces whatever arrived live. */
  replace(all: readonly SpanJson[]): void {
    this.ids.clear();
    this.list = [];
    this.add(all);
    if (all.length === 0) this.changed();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}
