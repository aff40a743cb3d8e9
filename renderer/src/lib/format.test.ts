import { describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatMs, formatRelative } from './format';

describe('format', () => {
  it('formats durations', () => {
    expect(formatMs(undefined)).toBe('—');
    expect(formatMs(0.5)).toBe('0.50 ms');
    expect(formatMs(42.34)).toBe('42.3 ms');
    expect(formatMs(420)).toBe('420 ms');
    expect(formatMs(1234)).toBe('1.23 s');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(formatMs(125_000)).toBe('2m 05s');
  });

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(512 * 1024 * 1024)).toBe('512 MB');
  });

  it('formats relative times and ages', () => {
    const now = Date.UTC(2025, 0, 10, 12);
    expect(formatRelative(now - 10_000, now)).toBe('just now');
    expect(formatRelative(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(formatRelative(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(formatRelative(now - 30 * 3_600_000, now)).toBe('yesterday');
    expect(formatAge(now - 42_000, now)).toBe('42s');
    expect(formatAge(now - 190 * 60_000, now)).toBe('3h 10m');
  });
});
