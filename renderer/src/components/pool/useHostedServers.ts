// The hosted MCP servers, their sessions and calls: fetched with the pool (every 2 s while the
// page is shown, and at once when the engine says the pool changed or an action asks).
import { useCallback, useEffect, useRef, useState } from 'react';
import type { HostedServersView } from '../../../../shared/api';
import { errorText, useApp } from '../../store/app-store';
import { getClient } from '../../store/client';
import { POOL_REFRESH_MS } from './usePoolContainers';

export interface HostedData {
  view: HostedServersView | null;
  error: string | null;
  refresh: () => void;
}

export function useHostedServers(): HostedData {
  const version = useApp((s) => s.poolVersion);
  const [view, setView] = useState<HostedServersView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mounted = useRef(true);

  const refresh = useCallback((): void => {
    getClient()
      .listHostedServers()
      .then(
        (v) => {
          if (!mounted.current) return;
          setView(v);
          setError(null);
        },
        (err: unknown) => mounted.current && setError(errorText(err)),
      );
  }, []);

  useEffect(() => {
    mounted.current = true;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, POOL_REFRESH_MS);
    return () => {
      mounted.current = false;
      clearInterval(timer);
    };
  }, [refresh]);

  useEffect(() => refresh(), [version, refresh]);

  return { view, error, refresh };
}
