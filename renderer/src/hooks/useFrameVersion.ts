// Re-renders when a mutable buffer (OutputBuffer, SpanList) changes, at most once per frame:
// a program can write thousands of chunks a second and only the last state of each frame is
// worth drawing.
import { useEffect, useState } from 'react';
import { FrameBatcher } from '../lib/frame';

interface Versioned {
  version: number;
  subscribe(listener: () => void): () => void;
}

export function useFrameVersion(source: Versioned | undefined): number {
  const [version, setVersion] = useState(source?.version ?? 0);
  useEffect(() => {
    if (!source) return undefined;
    const batcher = new FrameBatcher(() => setVersion(source.version));
    const unsubscribe = source.subscribe(() => batcher.request());
    setVersion(source.version);
    return () => {
      unsubscribe();
      batcher.dispose();
    };
  }, [source]);
  return source ? version : 0;
}
