import { describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatMs, formatRelative } from './format';

describe('format', () => {
  it.each([
    [undefined, '—'],
    [0.5, '0.50 ms'],
    [42.34, '42.3 ms'],
    [420, '420 ms'],
    [1234, '1.23 s'],
    [12_345, '12.3 s'],
    [125_000, '2m 05s'],
  ])('formats the duration %s ms as %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });

  it.each([
    [512, '512 B'],
    [1536, '1.5 KB'],
    [512 * 1024 * 1024, '512 MB'],
  ])('formats %i bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  const now = Date.UTC(2025, 0, 10, 12);
  it.each([
    [10_000, 'just now'],
    [5 * 60_000, '5 min ago'],
    [3 * 3_600_000, '3 h ago'],
    [30 * 3_600_000, 'yesterday'],
  ])('formats a time %i ms ago as %s', (ago, text) => {
    expect(formatRelative(now - ago, now)).toBe(text);
  });

  it.each([
    [42_000, '42s'],
    [190 * 60_000, '3h 10m'],
  ])('formats an age of %i ms as %s', (age, text) => {
    expect(formatAge(now - age, now)).toBe(text);
  });
});
