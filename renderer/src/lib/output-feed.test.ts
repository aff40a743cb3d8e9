import { describe, expect, it } from 'vitest';
import { OutputBuffer } from './output-buffer';
import { OutputFeed } from './output-feed';

/** A feed whose rounds run when the test says (one round = one frame). */
function manualFeed(buffer: OutputBuffer, sliceChars = 100) {
  let pending: (() => void) | undefined;
  const feed = new OutputFeed(buffer, {
    sliceChars,
    // A budget no slice fits in: one slice a round, so rounds can be counted.
    budgetMs: 0,
    schedule: (run) => {
      pending = run;
      return () => (pending = undefined);
    },
  });
  const frame = (): boolean => {
    const run = pending;
    pending = undefined;
    run?.();
    return run !== undefined;
  };
  return { feed, frame };
}

const lines = (from: number, count: number): string => Array.from({ length: count }, (_, i) => `line ${from + i}\n`).join('');

describe('OutputFeed', () => {
  it('appends a small piece at once when nothing waits', () => {
    const buffer = new OutputBuffer();
    const { feed, frame } = manualFeed(buffer);
    feed.push('stdout', 'hi\n');
    expect(buffer.text()).toBe('hi\n');
    expect(frame()).toBe(false);
  });

  it('feeds a large piece a slice per round, in order, with stderr where it came', () => {
    const buffer = new OutputBuffer();
    const { feed, frame } = manualFeed(buffer, 100);
    const big = lines(0, 50); // ~400 characters: four slices
    feed.push('stdout', big);
    feed.push('stderr', 'oops\n');
    feed.push('stdout', 'after\n');
    expect(buffer.isEmpty).toBe(true);
    let rounds = 0;
    while (frame()) rounds++;
    expect(rounds).toBeGreaterThanOrEqual(5);
    expect(buffer.text()).toBe(`${big}oops\nafter\n`);
    expect(buffer.totals).toEqual({ stdout: big.length + 6, stderr: 5 });
  });

  it('runs an action only after the output queued before it', () => {
    const buffer = new OutputBuffer();
    const { feed, frame } = manualFeed(buffer, 100);
    const seen: string[] = [];
    feed.push('stdout', lines(0, 30));
    feed.then(() => seen.push(buffer.text().split('\n').at(-2) ?? ''));
    expect(seen).toEqual([]);
    while (frame());
    expect(seen).toEqual(['line 29']);
    // Nothing waiting: at once.
    feed.then(() => seen.push('now'));
    expect(seen).toEqual(['line 29', 'now']);
  });

  it('leaves out, and counts, queued output that newer queued output would push out of the buffer anyway', () => {
    const buffer = new OutputBuffer(1000);
    const { feed, frame } = manualFeed(buffer, 100);
    feed.push('stdout', 'kept before\n');
    const pieces = Array.from({ length: 40 }, (_, i) => lines(i * 20, 20)); // 40 pieces of ~200 characters
    for (const p of pieces) feed.push('stdout', p);
    while (frame());
    const all = `kept before\n${pieces.join('')}`;
    // The buffer shows the tail it would have shown had every piece been laid out (give or
    // take the line that straddles the cut), and counts everything.
    const reference = new OutputBuffer(1000);
    reference.append('stdout', all);
    const shown = buffer.text().split('\n');
    expect(shown.length).toBeGreaterThan(reference.text().split('\n').length - 3);
    expect(reference.text().endsWith(shown.slice(1).join('\n'))).toBe(true);
    expect(buffer.text().endsWith('line 799\n')).toBe(true);
    expect(buffer.totals.stdout).toBe(all.length);
    const breaks = all.split('\n').length - 1;
    expect(buffer.droppedChars + buffer.text().length - (buffer.lineCount)).toBe(all.length - breaks);
    expect(buffer.droppedLines + buffer.lineCount).toBe(breaks);
  });

  it("a skip from the host drops what waits before it and what the buffer holds, and counts them", () => {
    const buffer = new OutputBuffer();
    const { feed, frame } = manualFeed(buffer, 100);
    feed.push('stdout', 'old\n');
    feed.push('stdout', lines(0, 30));
    feed.skip({ stdout: 5000, stderr: 7, lines: 100 });
    feed.push('stdout', 'new\n');
    while (frame());
    expect(buffer.text()).toBe('new\n');
    expect(buffer.totals).toEqual({ stdout: 4 + lines(0, 30).length + 5000 + 4, stderr: 7 });
    expect(buffer.droppedLines).toBe(1 + 30 + 100);
    // Characters of lines, line breaks aside.
    expect(buffer.droppedChars).toBe(3 + lines(0, 30).length - 30 + 5007 - 100);
  });

  it('dispose drops what waits, actions included', () => {
    const buffer = new OutputBuffer();
    const { feed, frame } = manualFeed(buffer, 10);
    let ran = false;
    feed.push('stdout', lines(0, 10));
    feed.then(() => (ran = true));
    feed.dispose();
    expect(frame()).toBe(false);
    expect(ran).toBe(false);
    expect(feed.idle).toBe(true);
  });
});
