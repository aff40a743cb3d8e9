import { describe, expect, it } from 'vitest';
import { MAX_SPAN_LINE_BYTES, SpanLineSplitter } from './span-lines';

function split(chunks: Buffer[]): { lines: string[]; oversized: number } {
  const lines: string[] = [];
  let oversized = 0;
  const s = new SpanLineSplitter((l) => lines.push(l), () => oversized++);
  for (const c of chunks) s.push(c);
  s.end();
  return { lines, oversized };
}

describe('SpanLineSplitter', () => {
  it('rebuilds lines cut anywhere, also inside a UTF-8 character, and keeps a last line without newline', () => {
    const text = Buffer.from('{"a":"é"}\n\n{"b":2}\n{"c":3}');
    for (let cut = 1; cut < text.length; cut++) {
      expect(split([text.subarray(0, cut), text.subarray(cut)])).toEqual({ lines: ['{"a":"é"}', '{"b":2}', '{"c":3}'], oversized: 0 });
    }
  });

  it('drops and counts a line over the limit without holding it, and goes on after it', () => {
    const big = Buffer.alloc(MAX_SPAN_LINE_BYTES + 10, 'x');
    const r = split([Buffer.from('{"a":1}\n'), big.subarray(0, 1000), big.subarray(1000), Buffer.from('tail\n{"b":2}\n')]);
    expect(r).toEqual({ lines: ['{"a":1}', '{"b":2}'], oversized: 1 });
  });
});
