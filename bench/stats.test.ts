import { describe, expect, it } from 'vitest';
import { formatTable, mean, median, percentile, ratio, round, summarize } from './stats';

describe('percentile (nearest rank)', () => {
  const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]; // 1..10, unsorted

  // p50 is rank 5: the lower middle of an even count.
  it.each([
    [50, 5],
    [90, 9],
    [91, 10],
    [99, 10],
    [100, 10],
    [0, 1],
    [10, 1],
    [11, 2],
  ])('picks the sample at rank ceil(p/100 * n): p%i of 1..10 is %i', (p, expected) => {
    expect(percentile(ten, p)).toBe(expected);
  });

  it('p99 of 100 samples is the 99th, not the largest', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 50)).toBe(50);
  });

  it('handles odd counts, one sample, none, and does not sort its input', () => {
    const odd = [3, 1, 2];
    expect(percentile(odd, 50)).toBe(2);
    expect(odd).toEqual([3, 1, 2]);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('median, mean, summarize, ratio, round', () => {
  it('computes the classic median and the mean', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
    expect(mean([1, 2, 3, 6])).toBe(3);
  });

  it('summarizes', () => {
    expect(summarize([5, 1, 4, 2, 3])).toEqual({ n: 5, p50: 3, p99: 5, mean: 3, min: 1, max: 5 });
  });

  it('divides and rounds safely', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 0)).toBeNaN();
    expect(round(1.23456)).toBe(1.23);
    expect(round(Number.NaN)).toBeNull();
  });
});

describe('formatTable', () => {
  it('aligns the first column left and the others right', () => {
    const text = formatTable(['path', 'p50'], [['warm', '7.5'], ['cold', '250.0']]);
    expect(text.split('\n')).toEqual(['path    p50', '----  -----', 'warm    7.5', 'cold  250.0']);
  });
});
