import { describe, expect, it } from 'vitest';
import { parseStats } from './processes';

describe('parseStats', () => {
  it('names each process with its state, by pid, also one whose name holds spaces and parentheses', () => {
    const stat = ['1 (loom-init) S 0 1 1 0 -1', '12 (sleep) Z 7 9 7 0', '7 (python3) T 1 7 7 0 -1', '9 (a (b) c) R 7 9 7 0 -1', ''].join('\n');
    expect(parseStats(stat)).toEqual(['1 loom-init sleeping', '7 python3 stopped', '9 a (b) c running', '12 sleep zombie']);
  });
});
