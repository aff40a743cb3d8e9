// Turns one output stream's base64 chunks into display text. A chunk boundary can fall inside
// a UTF-8 sequence or an ANSI escape sequence, so both are carried over to the next chunk:
// the TextDecoder in streaming mode holds partial characters, and `pending` holds a partial
// escape. Escape sequences (colours, cursor moves, window titles) are dropped: the output pane
// shows text, and a program must not be able to restyle or retitle the UI.
import { base64ToBytes } from './base64';

const ESC = '\u001b';
const BEL = '\u0007';

export class StreamDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';

  /** Decodes one base64 chunk; returns the text that is complete so far. */
  push(base64: string): string {
    return this.pushText(this.decoder.decode(base64ToBytes(base64), { stream: true }));
  }

  /** Decodes raw output bytes (a binary output frame's); returns the text that is complete so far. */
  pushBytes(bytes: Uint8Array): string {
    return this.pushText(this.decoder.decode(bytes, { stream: true }));
  }

  /** Feeds already-decoded text (used for whole responses reopened from history). */
  pushText(text: string): string {
    const input = this.pending + text;
    this.pending = '';
    if (!input.includes(ESC)) return input;
    const { text: out, rest } = stripEscapes(input);
    this.pending = rest;
    return out;
  }

  /** The end of the stream: whatever partial character or escape is left. */
  flush(): string {
    const tail = this.decoder.decode();
    const rest = this.pending + tail;
    this.pending = '';
    // An unfinished escape at the very end is dropped; other leftovers are text.
    return rest.startsWith(ESC) ? '' : rest;
  }
}

/**
 * Removes escape sequences; `rest` is an unfinished sequence at the end of the input, to be
 * completed by the next chunk.
 */
export function stripEscapes(input: string): { text: string; rest: string } {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const esc = input.indexOf(ESC, i);
    if (esc < 0) {
      out += input.slice(i);
      break;
    }
    out += input.slice(i, esc);
    const end = escapeEnd(input, esc);
    if (end < 0) return { text: out, rest: input.slice(esc) };
    i = end;
  }
  return { text: out, rest: '' };
}

/** Index just past the escape sequence that starts at `start`, or -1 when it is unfinished. */
function escapeEnd(s: string, start: number): number {
  const kind = s[start + 1];
  if (kind === undefined) return -1;
  if (kind === '[') {
    // CSI: parameter and intermediate bytes, then one final byte in @..~.
    for (let j = start + 2; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e) return j + 1;
      if (c < 0x20 || c > 0x3f) return j; // malformed: drop the introducer only
    }
    return -1;
  }
  if (kind === ']' || kind === 'P' || kind === '_' || kind === '^') {
    // OSC/DCS/APC/PM: up to BEL or ESC \ (string terminator).
    for (let j = start + 2; j < s.length; j++) {
      if (s[j] === BEL) return j + 1;
      if (s[j] === ESC) {
        if (j + 1 >= s.length) return -1;
        return s[j + 1] === '\\' ? j + 2 : j;
      }
    }
    return -1;
  }
  // Two-character sequences (ESC 7, ESC =, ...), and charset selection ESC ( B.
  if (kind === '(' || kind === ')') return start + 3 <= s.length ? start + 3 : -1;
  return start + 2;
}
