import { describe, expect, it } from 'vitest';
import { formatTraceParent, parseTraceParent } from './traceparent';

describe('parseTraceParent', () => {
  it('reads the W3C example', () => {
    const value = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const parsed = parseTraceParent(value);
    expect(parsed).toEqual({ parent: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', flags: 1 } });
    if ('parent' in parsed) expect(formatTraceParent(parsed.parent)).toBe(value);
  });

  it.each([
    ['', 'is not a W3C traceparent'],
    ['00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01', 'is not a W3C traceparent'],
    ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', 'is not a W3C traceparent'],
    ['ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'version ff'],
    ['00-00000000000000000000000000000000-b7ad6b7169203331-01', 'all-zero trace id'],
    ['00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', 'all-zero parent span id'],
    ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra', 'more than four parts'],
  ])('refuses %j', (value, problem) => {
    const parsed = parseTraceParent(value);
    expect('problem' in parsed && parsed.problem).toContain(problem);
  });

  it('takes a later version with more parts (forward compatibility)', () => {
    expect(parseTraceParent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-more')).toHaveProperty('parent');
  });
});
