import { describe, expect, it } from 'vitest';
import { SpanList } from './span-list';

describe('SpanList', () => {
  it('adds live batches without duplicates and replaces with the final list', () => {
    const list = new SpanList();
    let calls = 0;
    list.subscribe(() => calls++);
    list.add([{ traceId: 't', spanId: 'a', name: 'a' }]);
    list.add([
      { traceId: 't', spanId: 'a', name: 'a' },
      { traceId: 't', spanId: 'b', name: 'b' },
    ]);
    expect(list.spans.map((s) => s.name)).toEqual(['a', 'b']);
    list.replace([{ traceId: 't', spanId: 'c', name: 'c' }]);
    expect(list.spans.map((s) => s.name)).toEqual(['c']);
    list.replace([]);
    expect(list.size).toBe(0);
    expect(calls).toBe(4);
    expect(list.version).toBe(4);
  });
});
