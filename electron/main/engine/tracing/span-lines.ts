// The bytes of a span file (the trace library appends one JSON record a line) back into lines,
// however they were cut on the way. A line longer than any record the library writes is the
// program's doing: it is dropped and counted, never held in memory whole.

/** Longer lines are dropped (the tracing libraries trim what they write far below this). */
export const MAX_SPAN_LINE_BYTES = 1 << 20;

export class SpanLineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Inside an oversized line: drop bytes up to its end. */
  private skipping = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOversized: () => void,
  ) {}

  push(chunk: Buffer): void {
    let at = 0;
    for (;;) {
      const nl = chunk.indexOf(10, at);
      const piece = chunk.subarray(at, nl === -1 ? chunk.length : nl);
      if (!this.skipping) {
        this.partial.push(piece);
        this.partialBytes += piece.length;
        if (this.partialBytes > MAX_SPAN_LINE_BYTES) {
          this.partial = [];
          this.partialBytes = 0;
          this.skipping = true;
          this.onOversized();
        }
      }
      if (nl === -1) return;
      if (this.skipping) this.skipping = false;
      else this.emit();
      at = nl + 1;
    }
  }

  /** The file ended: a last line without its newline still counts. */
  end(): void {
    if (!this.skipping) this.emit();
    this.skipping = false;
  }

  private emit(): void {
    const line = Buffer.concat(this.partial, this.partialBytes).toString('utf8');
    this.partial = [];
    this.partialBytes = 0;
    if (line) this.onLine(line);
  }
}
