import { describe, expect, it } from 'vitest';
import { textToBase64, bytesToBase64 } from './base64';
import { StreamDecoder, stripEscapes } from './stream-decoder';

describe('StreamDecoder', () => {
  it('decodes a UTF-8 character split across chunks', () => {
    const bytes = new TextEncoder().encode('a✓b');
    const d = new StreamDecoder();
    expect(d.push(bytesToBase64(bytes.subarray(0, 2)))).toBe('a');
    expect(d.push(bytesToBase64(bytes.subarray(2)))).toBe('✓b');
    expect(d.flush()).toBe('');
  });

  it('decodes raw bytes too, a character split between bytes and base64 chunks', () => {
    const bytes = new TextEncoder().encode('a✓b€');
    const d = new StreamDecoder();
    expect(d.pushBytes(bytes.subarray(0, 2))).toBe('a');
    expect(d.push(bytesToBase64(bytes.subarray(2, 6)))).toBe('✓b');
    expect(d.pushBytes(bytes.subarray(6))).toBe('€');
    expect(d.pushBytes(new TextEncoder().encode('\u001b[1mx'))).toBe('x');
    expect(d.flush()).toBe('');
  });

  it('drops colour codes, also when split across chunks', () => {
    const d = new StreamDecoder();
    expect(d.push(textToBase64('\u001b[31mred\u001b['))).toBe('red');
    expect(d.push(textToBase64('0m plain'))).toBe(' plain');
  });

  it('drops OSC title sequences', () => {
    expect(stripEscapes('a\u001b]0;title\u0007b').text).toBe('ab');
    expect(stripEscapes('a\u001b]0;title\u001b\\b').text).toBe('ab');
  });

  it('keeps an unfinished sequence pending', () => {
    expect(stripEscapes('x\u001b[1;3')).toEqual({ text: 'x', rest: '\u001b[1;3' });
  });

  it('returns a truncated UTF-8 tail at flush as a replacement character', () => {
    const d = new StreamDecoder();
    d.push(bytesToBase64(new Uint8Array([0xe2, 0x9c])));
    expect(d.flush()).toBe('\ufffd');
  });
});
