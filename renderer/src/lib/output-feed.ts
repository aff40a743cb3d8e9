// Feeds a run's decoded output into its OutputBuffer a slice at a time, so that a flood never
// holds the main thread: what arrives is queued, and each frame appends only what fits in a
// few milliseconds. When more is queued than the buffer keeps, the oldest queued output can
// never be shown (the newer output alone fills the buffer), so it is not laid out at all: it
// is counted and left out, and the buffer lets go of what it holds. Actions queued behind the
// output (the run's end) run once the output before them is in, so the exit code never shows
// above output that is still to come.
import type { OutputBuffer, OutputStream } from './output-buffer';
import { scheduleFrame } from './frame';

/** Output left out: characters per stream and the line breaks among them. */
export interface Skipped {
  stdout: number;
  stderr: number;
  lines: number;
}

type Item = { kind: 'text'; stream: OutputStream; text: string; lines: number } | ({ kind: 'skip' } & Skipped) | { kind: 'action'; run: () => void };

export interface OutputFeedOptions {
  /** Milliseconds of appending per frame. */
  budgetMs?: number;
  /** Characters appended between looks at the clock. */
  sliceChars?: number;
  /** How the next round is scheduled (a frame, or a timer when the page is hidden). */
  schedule?: (run: () => void) => () => void;
}

export class OutputFeed {
  private items: Item[] = [];
  /** Characters queued, and line breaks among them: what the buffer counts is the difference. */
  private queuedChars = 0;
  private queuedLines = 0;
  private cancel: (() => void) | undefined;
  private readonly budgetMs: number;
  private readonly sliceChars: number;
  private readonly schedule: (run: () => void) => () => void;

  constructor(
    private readonly buffer: OutputBuffer,
    options: OutputFeedOptions = {},
  ) {
    this.budgetMs = options.budgetMs ?? 8;
    this.sliceChars = options.sliceChars ?? 32 * 1024;
    this.schedule = options.schedule ?? ((run) => scheduleFrame(run));
  }

  /** Nothing waits to be appended. */
  get idle(): boolean {
    return this.items.length === 0;
  }

  push(stream: OutputStream, text: string): void {
    if (text === '') return;
    // A small piece with nothing before it goes in at once: a quiet program's output shows as it comes.
    if (this.items.length === 0 && text.length <= this.sliceChars) {
      this.buffer.append(stream, text);
      return;
    }
    const lines = countNewlines(text);
    this.items.push({ kind: 'text', stream, text, lines });
    this.queuedChars += text.length;
    this.queuedLines += lines;
    this.leaveOutUnseeable();
    this.request();
  }

  /** Output left out upstream (the host's 'run.skipped'): it and everything before it go. */
  skip(skipped: Skipped): void {
    const skip: Item = { kind: 'skip', ...skipped };
    // What waits before it is older still: left out with it.
    while (this.items.length > 0) {
      const last = this.items.at(-1) as Item;
      if (last.kind === 'action') break;
      this.items.pop();
      add(skip, last);
      if (last.kind === 'text') this.dequeued(last.text.length, last.lines);
    }
    this.items.push(skip);
    this.request();
  }

  /** Runs `action` once everything queued before it is in the buffer (at once if nothing is). */
  then(action: () => void): void {
    if (this.items.length === 0) return action();
    this.items.push({ kind: 'action', run: action });
    this.request();
  }

  /** Appends everything queued now (what is past the buffer's size is still left out). */
  flush(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.drain(Number.POSITIVE_INFINITY);
  }

  /** Stops: what is queued is dropped, actions included. */
  dispose(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.items = [];
    this.queuedChars = 0;
    this.queuedLines = 0;
  }

  private dequeued(chars: number, lines: number): void {
    this.queuedChars -= chars;
    this.queuedLines -= lines;
  }

  private request(): void {
    if (this.cancel || this.items.length === 0) return;
    this.cancel = this.schedule(() => {
      this.cancel = undefined;
      this.drain(this.budgetMs);
      this.request();
    });
  }

  private drain(budgetMs: number): void {
    const start = performance.now();
    // At least one step a round, whatever the clock says: the queue always moves.
    for (let first = true; this.items.length > 0 && (first || performance.now() - start < budgetMs); first = false) {
      const item = this.items[0] as Item;
      if (item.kind === 'action') {
        this.items.shift();
        item.run();
      } else if (item.kind === 'skip') {
        this.items.shift();
        this.buffer.discard(item);
      } else {
        // Slices end anywhere: the buffer carries a line (and a "\r" before "\n") across appends.
        const slice = item.text.length <= this.sliceChars ? item.text : item.text.slice(0, this.sliceChars);
        const lines = slice === item.text ? item.lines : countNewlines(slice);
        if (slice === item.text) this.items.shift();
        else {
          item.text = item.text.slice(slice.length);
          item.lines -= lines;
        }
        this.dequeued(slice.length, lines);
        this.buffer.append(item.stream, slice);
      }
    }
  }

  /**
   * Turns queued output that newer queued output would push out of the buffer anyway into a
   * count. Only whole pieces at the front go, so what is shown is exactly the buffer's tail.
   */
  private leaveOutUnseeable(): void {
    const keep = this.buffer.maxChars;
    const first = this.items[0];
    let skip = first?.kind === 'skip' ? first : undefined;
    for (;;) {
      const at = skip ? 1 : 0;
      const item = this.items[at];
      // What the buffer would keep of the rest: its characters, line breaks aside.
      if (item?.kind !== 'text' || this.queuedChars - this.queuedLines - (item.text.length - item.lines) < keep) return;
      this.items.splice(at, 1);
      this.dequeued(item.text.length, item.lines);
      if (!skip) {
        skip = { kind: 'skip', stdout: 0, stderr: 0, lines: 0 };
        this.items.unshift(skip);
      }
      add(skip, item);
    }
  }
}

function add(skip: Skipped, item: Item): void {
  if (item.kind === 'skip') {
    skip.stdout += item.stdout;
    skip.stderr += item.stderr;
    skip.lines += item.lines;
  } else if (item.kind === 'text') {
    skip[item.stream] += item.text.length;
    skip.lines += item.lines;
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) n++;
  return n;
}
