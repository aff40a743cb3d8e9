// What one WebSocket client has yet to be sent of the event stream. While the socket keeps up,
// events go straight out. Once it is backed up (its unsent bytes past a limit), they wait here
// in order, and a run's output is merged into large pieces as it waits; past a cap, the oldest
// waiting output is left out and a 'run.skipped' event stands in its place, counting it. A
// window that falls behind a program printing without end thus gets the newest output, which
// is what its pane shows (it keeps far less than the cap), and never gets it out of order,
// never silently loses a piece in the middle, and never makes the host hold more than the cap.
import type { LoomEvent } from '../../../shared/api';

export interface OutboxLimits {
  /** Past this many unsent bytes on the socket, events wait in the outbox. */
  eventBufferBytes: number;
  /** Output held per client at most; older output is left out (and counted) beyond it. */
  heldOutputBytes: number;
  /** Largest piece of output sent in one frame, so that the page parses it in one short task. */
  maxFrameOutputBytes: number;
}

export interface OutboxSocket {
  /** false once the socket closes: what waits is then dropped. */
  readonly open: boolean;
  /** Unsent bytes (ws's bufferedAmount). */
  readonly buffered: number;
  /** Sends a text frame; `sent` runs once it has been handed to the operating system (or failed). */
  send(text: string, sent: () => void): void;
}

type Stream = 'stdout' | 'stderr';

type Item =
  | { kind: 'text'; text: string }
  | { kind: 'output'; runId: string; stream: Stream; chunks: Buffer[]; bytes: number }
  | { kind: 'skipped'; runId: string; stdoutBytes: number; stderrBytes: number; lines: number };

export class Outbox {
  private items: Item[] = [];
  private outputBytes = 0;
  private textBytes = 0;

  constructor(
    private readonly socket: OutboxSocket,
    private readonly limits: OutboxLimits,
  ) {}

  /** Bytes waiting here (output and other events), not counting what the socket holds. */
  get heldBytes(): number {
    return this.outputBytes + this.textBytes;
  }

  /** `text` is the event's EventFrame as JSON, made once for every client. */
  push(event: LoomEvent, text: string): void {
    if (!this.socket.open) return;
    if (this.items.length === 0 && this.socket.buffered <= this.limits.eventBufferBytes) {
      this.socket.send(text, () => this.pump());
      return;
    }
    const output = outputOf(event);
    if (output) this.holdOutput(output.runId, output.stream, Buffer.from(output.base64, 'base64'));
    else this.holdText(text, event);
    this.pump();
  }

  /** Sends what waits, in order, while the socket takes it. */
  pump(): void {
    if (!this.socket.open) {
      this.items = [];
      this.outputBytes = 0;
      this.textBytes = 0;
      return;
    }
    while (this.items.length > 0 && this.socket.buffered <= this.limits.eventBufferBytes) {
      const text = this.takeFrame();
      this.socket.send(text, () => this.pump());
    }
  }

  private holdText(text: string, event: LoomEvent): void {
    const last = this.items.at(-1);
    // A change notice without content says the same as the one already waiting.
    if ((event.type === 'pool.changed' || event.type === 'sessions.changed') && last?.kind === 'text' && last.text === text) return;
    this.items.push({ kind: 'text', text });
    this.textBytes += text.length;
  }

  private holdOutput(runId: string, stream: Stream, bytes: Buffer): void {
    const last = this.items.at(-1);
    if (last?.kind === 'output' && last.runId === runId && last.stream === stream) {
      last.chunks.push(bytes);
      last.bytes += bytes.length;
    } else {
      this.items.push({ kind: 'output', runId, stream, chunks: [bytes], bytes: bytes.length });
    }
    this.outputBytes += bytes.length;
    this.leaveOutOldest();
  }

  /** Drops the oldest waiting output past the cap, counting it in a 'skipped' item where it was. */
  private leaveOutOldest(): void {
    for (let i = 0; this.outputBytes > this.limits.heldOutputBytes && i < this.items.length; i++) {
      const item = this.items[i] as Item;
      if (item.kind !== 'output') continue;
      const skip = this.skippedBefore(i, item.runId);
      if (this.items[i] !== item) i++;
      // Whole chunks first (no copying), then the front of the next one.
      while (item.chunks.length > 0 && this.outputBytes > this.limits.heldOutputBytes) {
        const chunk = item.chunks[0] as Buffer;
        let cut = Math.min(chunk.length, this.outputBytes - this.limits.heldOutputBytes);
        // Keep whole characters: what is left starts at a UTF-8 lead byte, not inside a sequence.
        while (cut < chunk.length && isContinuation(chunk[cut] as number)) cut++;
        if (item.stream === 'stdout') skip.stdoutBytes += cut;
        else skip.stderrBytes += cut;
        skip.lines += countNewlines(chunk.subarray(0, cut));
        this.outputBytes -= cut;
        item.bytes -= cut;
        if (cut === chunk.length) item.chunks.shift();
        else item.chunks[0] = chunk.subarray(cut);
      }
      if (item.chunks.length === 0) {
        this.items.splice(i, 1);
        i--;
      }
    }
  }

  /** The 'skipped' item of this run just before position i, made if there is none. */
  private skippedBefore(i: number, runId: string): Extract<Item, { kind: 'skipped' }> {
    const before = this.items[i - 1];
    if (before?.kind === 'skipped' && before.runId === runId) return before;
    const skip: Extract<Item, { kind: 'skipped' }> = { kind: 'skipped', runId, stdoutBytes: 0, stderrBytes: 0, lines: 0 };
    this.items.splice(i, 0, skip);
    return skip;
  }

  /** The first item as one frame's text, leaving the rest of a large output item waiting. */
  private takeFrame(): string {
    const item = this.items[0] as Item;
    if (item.kind === 'text') {
      this.items.shift();
      this.textBytes -= item.text.length;
      return item.text;
    }
    if (item.kind === 'skipped') {
      this.items.shift();
      const { runId, stdoutBytes, stderrBytes, lines } = item;
      return JSON.stringify({ event: { type: 'run.skipped', runId, stdoutBytes, stderrBytes, lines } satisfies LoomEvent });
    }
    const whole = joined(item);
    let end = Math.min(whole.length, this.limits.maxFrameOutputBytes);
    // Pieces end between characters, so each decodes on its own.
    while (end < whole.length && end > 0 && isContinuation(whole[end] as number)) end--;
    if (end === 0) end = whole.length;
    const piece = whole.subarray(0, end);
    if (end === whole.length) this.items.shift();
    else {
      item.chunks = [whole.subarray(end)];
      item.bytes = whole.length - end;
    }
    this.outputBytes -= end;
    const base64 = piece.toString('base64');
    const event: LoomEvent = { type: 'run.event', runId: item.runId, event: item.stream === 'stdout' ? { stdout: base64 } : { stderr: base64 } };
    return JSON.stringify({ event });
  }
}

/** A run's output chunk (proto3 JSON: bytes in base64), or undefined for any other event. */
function outputOf(event: LoomEvent): { runId: string; stream: Stream; base64: string } | undefined {
  if (event.type !== 'run.event') return undefined;
  const { stdout, stderr } = event.event;
  if (stdout !== undefined) return { runId: event.runId, stream: 'stdout', base64: stdout };
  if (stderr !== undefined) return { runId: event.runId, stream: 'stderr', base64: stderr };
  return undefined;
}

function joined(item: Extract<Item, { kind: 'output' }>): Buffer {
  if (item.chunks.length === 1) return item.chunks[0] as Buffer;
  const whole = Buffer.concat(item.chunks, item.bytes);
  item.chunks = [whole];
  return whole;
}

const isContinuation = (byte: number): boolean => (byte & 0xc0) === 0x80;

function countNewlines(bytes: Buffer): number {
  let n = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) n++;
  return n;
}
