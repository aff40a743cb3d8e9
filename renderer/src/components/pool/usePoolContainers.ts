// The pool's containers, fetched every 2 s while the page is shown (and the window visible),
// and at once when the engine says the pool changed or an action asks for a refresh.
import { useEffect, useRef, useState } from 'react';
import type { PoolContainer } from '../../../../shared/api';
import { errorText, useApp } from '../../store/app-store';
import { getClient } from '../../store/client';

export const POOL_REFRESH_MS = 2000;

export interface PoolData {
  containers: PoolContainer[] | null;
  error: string | null;
  updatedAt: number | null;
}

export function usePoolContainers(): PoolData {
  const version = useApp((s) => s.poolVersion);
  const [data, setData] = useState<PoolData>({ containers: null, error: null, updatedAt: null });
  const inFlight = useRef(false);
  const mounted = useRef(true);

  const fetchNow = useRef(async (): Promise<void> => {
    if (inFlight.current) return;
    inFlight.current = true;
    try {
      const containers = await getClient().listContainers();
      if (mounted.current) setData({ containers, error: null, updatedAt: Date.now() });
    } catch (err) {
      if (mounted.current) setData((d) => ({ ...d, error: errorText(err) }));
    } finally {
      inFlight.current = false;
    }
  });

  useEffect(() => {
    mounted.current = true;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void fetchNow.current();
    }, POOL_REFRESH_MS);
    return () => {
      mounted.current = false;
      clearInterval(timer);
    };
  }, []);

  useEffect(() => {
    void fetchNow.current();
  }, [version]);

  return data;
}
