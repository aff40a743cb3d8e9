import { describe, expect, it } from 'vitest';
import { base64ToBytes, base64ToText, bytesToBase64, textToBase64 } from './base64';

describe('base64', () => {
  it('round-trips UTF-8 text', () => {
    const text = 'héllo wörld ✓ 🚀\n';
    expect(base64ToText(textToBase64(text))).toBe(text);
    expect(textToBase64('hi')).toBe('aGk=');
  });

  it('round-trips every byte value in large buffers', () => {
    const bytes = new Uint8Array(70_000).map((_, i) => i % 256);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
  });

  it('replaces invalid UTF-8 instead of throwing', () => {
    expect(base64ToText(bytesToBase64(new Uint8Array([0x61, 0xff, 0x62])))).toBe('a\ufffdb');
  });

  it('handles empty input', () => {
    expect(bytesToBase64(new Uint8Array())).toBe('');
    expect(base64ToBytes('')).toEqual(new Uint8Array());
  });
});
