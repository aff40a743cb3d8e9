// The live output of one run, kept as lines of fragments so that the pane can virtualize by
// line and only touch the last line when a chunk arrives. stdout and stderr share one
// sequence of lines (arrival order, as a terminal would show them); each fragment remembers
// its stream so stderr can be tinted. A carriage return without a newline rewinds the line,
// so progress bars redraw in place instead of piling up. The buffer keeps at most `maxChars`
// characters: older lines are dropped and counted, because a program printing without end
// must not grow the page without end.
//
// A finished line that is all stdout is kept as its bare text: a flood brings hundreds of
// thousands of lines a second, and one string per line instead of three objects and a string
// is what keeps the page's garbage collector from stalling it.

export type OutputStream = 'stdout' | 'stderr';

export interface OutputFragment {
  stream: OutputStream;
  text: string;
}

export interface OutputLine {
  fragments: OutputFragment[];
  chars: number;
}

export const DEFAULT_MAX_CHARS = 2 * 1024 * 1024;

type Listener = () => void;

export class OutputBuffer {
  /** The last one, the line in progress, is always an OutputLine; finished lines may be text (stdout). */
  private lines: (OutputLine | string)[] = [{ fragments: [], chars: 0 }];
  /** Index of the first kept line in `lines` (dropping from the front without shifting). */
  private head = 0;
  private chars = 0;
  private readonly listeners = new Set<Listener>();
  /** Characters and lines dropped from the front to stay under the cap. */
  droppedChars = 0;
  droppedLines = 0;
  /** Bumped on every change, for consumers that poll or memoize. */
  version = 0;
  readonly totals = { stdout: 0, stderr: 0 };
  /** Set when a stream's last chunk ended with '\r': a following '\n' completes "\r\n". */
  private readonly pendingCr: Record<OutputStream, boolean> = { stdout: false, stderr: false };

  constructor(readonly maxChars = DEFAULT_MAX_CHARS) {}

  get lineCount(): number {
    const count = this.lines.length - this.head;
    // A trailing empty line (after the final newline) is not shown.
    return this.last().chars === 0 && count > 1 ? count - 1 : count;
  }

  get isEmpty(): boolean {
    return this.lines.length - this.head === 1 && this.last().chars === 0;
  }

  line(index: number): OutputLine | undefined {
    const line = this.lines[this.head + index];
    return typeof line === 'string' ? lineOf(line) : line;
  }

  /** Everything kept, as plain text (for copying). */
  text(): string {
    let out = '';
    for (let i = this.head; i < this.lines.length; i++) {
      const line = this.lines[i] as OutputLine | string;
      if (typeof line === 'string') out += line;
      else for (const f of line.fragments) out += f.text;
      if (i < this.lines.length - 1) out += '\n';
    }
    return out;
  }

  append(stream: OutputStream, text: string): void {
    if (text === '') return;
    this.totals[stream] += text.length;
    let start = 0;
    if (this.pendingCr[stream]) {
      this.pendingCr[stream] = false;
      // "\r" then "\n" in the next chunk is one line break: undo nothing, just break.
      if (text[0] === '\n') {
        this.newLine();
        start = 1;
      } else {
        this.rewind();
      }
    }
    for (let i = start; i < text.length; ) {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? text.length : nl;
      const segment = text.slice(i, end);
      const last = this.last();
      if (nl >= 0 && stream === 'stdout' && last.fragments.length === 0 && !segment.includes('\r')) {
        // A whole stdout line: kept as its text, before the (still empty) line in progress.
        this.lines[this.lines.length - 1] = segment;
        this.lines.push(last);
        this.chars += segment.length;
        i = nl + 1;
        continue;
      }
      this.appendSegment(stream, segment, nl < 0);
      if (nl < 0) break;
      this.newLine();
      i = nl + 1;
    }
    this.trim();
    this.changed();
  }

  /**
   * Output that was left out before it got here (the window fell behind a flood): it comes
   * before output that fills the buffer on its own, so what is kept goes with it. Counted like
   * trimmed output; the line in progress is ended.
   */
  discard(skipped: { stdout: number; stderr: number; lines: number }): void {
    this.totals.stdout += skipped.stdout;
    this.totals.stderr += skipped.stderr;
    // Line breaks are not characters of a line, here as in trim().
    this.droppedChars += this.chars + skipped.stdout + skipped.stderr - skipped.lines;
    this.droppedLines += (this.isEmpty ? 0 : this.lineCount) + skipped.lines;
    this.lines = [{ fragments: [], chars: 0 }];
    this.head = 0;
    this.chars = 0;
    this.pendingCr.stdout = false;
    this.pendingCr.stderr = false;
    this.changed();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A segment has no '\n'; '\r' inside it rewinds the line to its start. */
  private appendSegment(stream: OutputStream, segment: string, atChunkEnd: boolean): void {
    let text = segment;
    if (text.endsWith('\r')) {
      text = text.slice(0, -1);
      // At the end of a chunk we cannot yet tell "\r\n" from a bare "\r".
      if (atChunkEnd) this.pendingCr[stream] = true;
    }
    const cr = text.lastIndexOf('\r');
    if (cr >= 0) {
      this.rewind();
      text = text.slice(cr + 1);
    }
    if (text === '') return;
    const line = this.last();
    const lastFragment = line.fragments[line.fragments.length - 1];
    if (lastFragment && lastFragment.stream === stream) lastFragment.text += text;
    else line.fragments.push({ stream, text });
    line.chars += text.length;
    this.chars += text.length;
  }

  private rewind(): void {
    const line = this.last();
    this.chars -= line.chars;
    line.fragments = [];
    line.chars = 0;
  }

  private newLine(): void {
    const last = this.last();
    const only = last.fragments[0];
    if (last.fragments.length === 0) this.lines[this.lines.length - 1] = '';
    else if (last.fragments.length === 1 && only?.stream === 'stdout') this.lines[this.lines.length - 1] = only.text;
    this.lines.push({ fragments: [], chars: 0 });
  }

  private trim(): void {
    while (this.chars > this.maxChars && this.lines.length - this.head > 1) {
      const first = this.lines[this.head] as OutputLine | string;
      const chars = typeof first === 'string' ? first.length : first.chars;
      this.chars -= chars;
      this.droppedChars += chars;
      this.droppedLines += 1;
      this.head += 1;
    }
    // One endless line: keep its tail.
    if (this.chars > this.maxChars) {
      const line = this.last();
      let excess = this.chars - this.maxChars;
      while (excess > 0 && line.fragments.length > 0) {
        const f = line.fragments[0] as OutputFragment;
        const cut = Math.min(excess, f.text.length);
        f.text = f.text.slice(cut);
        if (f.text === '') line.fragments.shift();
        line.chars -= cut;
        this.chars -= cut;
        this.droppedChars += cut;
        excess -= cut;
      }
    }
    // Reclaim the dropped slots now and then rather than shifting the array on every line.
    if (this.head > 4096 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }

  private last(): OutputLine {
    return this.lines[this.lines.length - 1] as OutputLine;
  }

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}

function lineOf(text: string): OutputLine {
  return { fragments: text === '' ? [] : [{ stream: 'stdout', text }], chars: text.length };
}
