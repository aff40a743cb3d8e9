// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, render } from '@testing-library/react';
import { OutputBuffer } from '../lib/output-buffer';
import { useFrameVersion } from './useFrameVersion';

afterEach(cleanup);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('useFrameVersion with a redraw interval', () => {
  it('draws the first change at once, and later ones no sooner than the interval after it', async () => {
    const buffer = new OutputBuffer();
    const seen: number[] = [];
    function Counter() {
      seen.push(useFrameVersion(buffer, 1000));
      return null;
    }
    render(<Counter />);
    await act(() => sleep(50));
    const settled = seen.length;

    // After a quiet spell: the next frame (here the 100 ms fallback: jsdom draws no frames).
    await act(async () => buffer.append('stdout', 'first\n'));
    await act(() => sleep(200));
    expect(seen.length).toBe(settled + 1);
    expect(seen.at(-1)).toBe(buffer.version);

    // More at once: held until the interval since that draw has passed, then drawn as they end.
    await act(async () => {
      buffer.append('stdout', 'second\n');
      buffer.append('stdout', 'third\n');
    });
    await act(() => sleep(400));
    expect(seen.length).toBe(settled + 1);
    await act(() => sleep(1000));
    expect(seen.length).toBe(settled + 2);
    expect(seen.at(-1)).toBe(buffer.version);
  });
});
