import { describe, expect, it } from 'vitest';
import { OutputBuffer } from './output-buffer';

const render = (b: OutputBuffer): string[] => {
  const out: string[] = [];
  for (let i = 0; i < b.lineCount; i++) {
    out.push((b.line(i)?.fragments ?? []).map((f) => (f.stream === 'stderr' ? `[${f.text}]` : f.text)).join(''));
  }
  return out;
};

describe('OutputBuffer', () => {
  it('keeps stdout and stderr in arrival order, fragments tagged by stream', () => {
    const b = new OutputBuffer();
    b.append('stdout', 'one\ntw');
    b.append('stderr', 'oops\n');
    b.append('stdout', 'three\n');
    expect(render(b)).toEqual(['one', 'tw[oops]', 'three']);
    expect(b.text()).toBe('one\ntwoops\nthree\n');
    expect(b.totals).toEqual({ stdout: 12, stderr: 5 });
  });

  it('is empty until something arrives', () => {
    const b = new OutputBuffer();
    expect(b.isEmpty).toBe(true);
    expect(b.lineCount).toBe(1);
    b.append('stdout', 'x');
    expect(b.isEmpty).toBe(false);
  });

  it('rewinds the line on a bare carriage return (progress bars)', () => {
    const b = new OutputBuffer();
    b.append('stdout', '10%\r20%\r');
    b.append('stdout', '30%\ndone\n');
    expect(render(b)).toEqual(['30%', 'done']);
  });

  it('treats CRLF as one line break, also across chunks', () => {
    const b = new OutputBuffer();
    b.append('stdout', 'a\r\nb\r');
    b.append('stdout', '\nc');
    expect(render(b)).toEqual(['a', 'b', 'c']);
  });

  it('drops the oldest lines past the cap and counts them', () => {
    const b = new OutputBuffer(100);
    for (let i = 0; i < 100; i++) b.append('stdout', `line ${String(i).padStart(3, '0')}\n`);
    expect(b.droppedLines).toBeGreaterThan(80);
    expect(render(b).at(-1)).toBe('line 099');
    const kept = render(b).join('').length;
    expect(kept).toBeLessThanOrEqual(100);
    expect(b.droppedChars + kept).toBe(100 * 8);
  });

  it('keeps the tail of one endless line', () => {
    const b = new OutputBuffer(10);
    b.append('stdout', 'abcdefghij');
    b.append('stderr', 'KLMNO');
    expect(render(b)).toEqual(['fghij[KLMNO]']);
    expect(b.droppedChars).toBe(5);
  });

  it('stays fast for many small chunks', () => {
    const b = new OutputBuffer(1024 * 1024);
    const t = performance.now();
    for (let i = 0; i < 200_000; i++) b.append(i % 7 ? 'stdout' : 'stderr', `row ${i}\n`);
    expect(performance.now() - t).toBeLessThan(2000);
    expect(render(b).at(-1)).toBe('row 199999');
  });

  it('notifies subscribers', () => {
    const b = new OutputBuffer();
    let calls = 0;
    const off = b.subscribe(() => calls++);
    b.append('stdout', 'a');
    off();
    b.append('stdout', 'b');
    expect(calls).toBe(1);
  });
});
