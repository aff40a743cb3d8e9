// What one WebSocket client has yet to be sent of the event stream. While the socket keeps up,
// events go straight out. Once it is backed up (its unsent bytes past a limit), they wait here
// in order, and a run's output is merged into large pieces as it waits; past a cap, the oldest
// waiting output is left out and a 'run.skipped' event stands in its place, counting it. A
// window that falls behind a program printing without end thus gets the newest output, which
// is what its pane shows (it keeps far less than the cap), and never gets it out of order,
// never silently loses a piece in the middle, and never makes the host hold more than the cap.
// A client that asked for binary output frames (OUTPUT_FRAME_PROTOCOL) gets output as bytes
// behind a small header rather than base64 in JSON, whether it keeps up or waits here.
import type { LoomEvent } from '../../../shared/api';
import { outputFrameHeader } from '../../../shared/output-frame';

export interface OutboxLimits {
  /** Past this many unsent bytes on the socket, events wait in the outbox. */
  eventBufferBytes: number;
  /** Output held per client at most; older output is left out (and counted) beyond it. */
  heldOutputBytes: number;
  /** Largest piece of output sent in one frame, so that the page parses it in one short task. */
  maxFrameOutputBytes: number;
  /** Output goes as binary frames (output-frame.ts), not as 'run.event' JSON. */
  binaryOutput?: boolean;
}

export interface OutboxSocket {
  /** false once the socket closes: what waits is then dropped. */
  readonly open: boolean;
  /** Unsent bytes (ws's bufferedAmount). */
  readonly buffered: number;
  /** Sends a frame (text, or binary for a Buffer); `sent` runs once it has been handed to the operating system (or failed). */
  send(data: string | Buffer, sent: () => void): void;
}

type Stream = 'stdout' | 'stderr';

/** A run's output chunk, as bytes. */
export interface OutputChunk {
  runId: string;
  stream: Stream;
  bytes: Buffer;
}

/**
 * An event as the outbox may need it: its EventFrame JSON, and for a run's output its bytes.
 * Both are made at most once for all clients, and only if one needs them (they are lazy).
 */
export interface OutgoingEvent {
  event: LoomEvent;
  text(): string;
  /** The output it carries, or undefined for any other event. */
  output(): OutputChunk | undefined;
}

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

  push(outgoing: OutgoingEvent): void {
    if (!this.socket.open) return;
    if (this.items.length === 0 && this.socket.buffered <= this.limits.eventBufferBytes) {
      const output = this.limits.binaryOutput ? outgoing.output() : undefined;
      this.socket.send(output ? binaryFrame(output.runId, output.stream, [output.bytes], output.bytes.length) : outgoing.text(), () => this.pump());
      return;
    }
    const output = outgoing.output();
    if (output) this.holdOutput(output.runId, output.stream, output.bytes);
    else this.holdText(outgoing.text(), outgoing.event);
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
      this.socket.send(this.takeFrame(), () => this.pump());
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

  /** The first item as one frame, leaving the rest of a large output item waiting. */
  private takeFrame(): string | Buffer {
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
    const { parts, size } = this.takeOutput(item);
    if (item.chunks.length === 0) this.items.shift();
    if (this.limits.binaryOutput) return binaryFrame(item.runId, item.stream, parts, size);
    const base64 = Buffer.concat(parts, size).toString('base64');
    const event: LoomEvent = { type: 'run.event', runId: item.runId, event: item.stream === 'stdout' ? { stdout: base64 } : { stderr: base64 } };
    return JSON.stringify({ event });
  }

  /**
   * Up to one frame's worth from the front of a waiting output item. Only what goes is touched:
   * joining all that waits (up to the cap, 8 MB) for every 256 KB frame cost a flood a second.
   */
  private takeOutput(item: Extract<Item, { kind: 'output' }>): { parts: Buffer[]; size: number } {
    const max = this.limits.maxFrameOutputBytes;
    const parts: Buffer[] = [];
    let size = 0;
    while (item.chunks.length > 0) {
      const chunk = item.chunks[0] as Buffer;
      if (size + chunk.length <= max) {
        parts.push(chunk);
        size += chunk.length;
        item.chunks.shift();
        continue;
      }
      // A cut inside a chunk falls between characters, so that the piece decodes on its own.
      let cut = max - size;
      while (cut > 0 && isContinuation(chunk[cut] as number)) cut--;
      if (cut === 0 && size === 0) {
        // Nothing else to send: past the run of continuation bytes rather than nothing.
        cut = max;
        while (cut < chunk.length && isContinuation(chunk[cut] as number)) cut++;
      }
      if (cut > 0) {
        parts.push(chunk.subarray(0, cut));
        size += cut;
        if (cut === chunk.length) item.chunks.shift();
        else item.chunks[0] = chunk.subarray(cut);
      }
      break;
    }
    item.bytes -= size;
    this.outputBytes -= size;
    return { parts, size };
  }
}

/** An output frame (output-frame.ts): the header and the bytes, copied once into one buffer. */
function binaryFrame(runId: string, stream: Stream, parts: Buffer[], size: number): Buffer {
  const header = outputFrameHeader(runId, stream);
  return Buffer.concat([header, ...parts], header.length + size);
}

const isContinuation = (byte: number): boolean => (byte & 0xc0) === 0x80;

function countNewlines(bytes: Buffer): number {
  let n = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) n++;
  return n;
}
