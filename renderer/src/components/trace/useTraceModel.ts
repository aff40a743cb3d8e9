// The trace model of a live span list, rebuilt as spans arrive but never so often that
// building it eats the frame: the next rebuild waits at least four times as long as the last
// one took. 1,000 spans rebuild every frame; 100,000 spans (~0.5 s a build) every few seconds,
// and once more when the run ends.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { SpanList } from '../../lib/span-list';
import { buildTraceModel, type TraceModel } from '../../lib/spans';
import { useFrameVersion } from '../../hooks/useFrameVersion';

export function useTraceModel(list: SpanList): TraceModel {
  const version = useFrameVersion(list);
  const [built, setBuilt] = useState(version);
  const lastCost = useRef(0);
  const lastAt = useRef(0);

  useEffect(() => {
    if (version === built) return undefined;
    const wait = Math.max(0, lastAt.current + lastCost.current * 4 - performance.now());
    const timer = setTimeout(() => setBuilt(version), wait);
    return () => clearTimeout(timer);
  }, [version, built]);

  return useMemo(() => {
    const start = performance.now();
    const model = buildTraceModel(list.spans);
    lastAt.current = performance.now();
    lastCost.current = lastAt.current - start;
    return model;
    // `built` stands for the list's content: the array is appended to in place.
  }, [list, built]);
}
