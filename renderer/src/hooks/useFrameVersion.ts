// Re-renders when a mutable buffer (OutputBuffer, SpanList) changes, at most once per frame:
// a program can write thousands of chunks a second and only the last state of each frame is
// worth drawing.
import { useEffect, useState } from 'react';
import { FrameBatcher } from '../lib/frame';

interface Versioned {
  version: number;
  subscribe(listener: () => void): () => void;
}

/**
 * `minIntervalMs`: while changes keep coming, at most one render per that many milliseconds (a
 * flood of output redrawn 60 times a second kept the page's main thread busy with layout, and
 * so slowed the output's own arrival); the first change after a quiet spell still draws in the
 * next frame.
 */
export function useFrameVersion(source: Versioned | undefined, minIntervalMs = 0): number {
  const [version, setVersion] = useState(source?.version ?? 0);
  useEffect(() => {
    if (!source) return undefined;
    let drawnAt = -Infinity;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const batcher = new FrameBatcher(() => {
      drawnAt = performance.now();
      setVersion(source.version);
    });
    const request = (): void => {
      if (timer !== undefined) return;
      const wait = drawnAt + minIntervalMs - performance.now();
      if (wait <= 0) batcher.request();
      else
        timer = setTimeout(() => {
          timer = undefined;
          batcher.request();
        }, wait);
    };
    const unsubscribe = source.subscribe(request);
    setVersion(source.version);
    return () => {
      unsubscribe();
      clearTimeout(timer);
      batcher.dispose();
    };
  }, [source, minIntervalMs]);
  return source ? version : 0;
}
