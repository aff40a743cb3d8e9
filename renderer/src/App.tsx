// The window: top bar, the engine banner when it is down, then the workspace or the pool.
import { useEffect } from 'react';
import { useApp } from './store/app-store';
import { useShortcuts } from './hooks/useShortcuts';
import { TopBar } from './components/topbar/TopBar';
import { EngineBanner } from './components/topbar/EngineBanner';
import { Workspace } from './components/layout/Workspace';
import { PoolPage } from './components/pool/PoolPage';
import { TracesPage } from './components/traces/TracesPage';
import { SessionsPage } from './components/session/SessionsPage';
import { Toasts } from './components/Toasts';
import './App.css';

export function App() {
  const theme = useApp((s) => s.theme);
  const view = useApp((s) => s.view);
  useShortcuts();

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);

  return (
    <div className="app">
      <TopBar />
      <EngineBanner />
      {/* The workspace stays mounted under the pool page so the editor keeps its state. */}
      <div className="view" hidden={view !== 'workspace'}>
        <Workspace />
      </div>
      {view === 'pool' ? <PoolPage /> : null}
      {view === 'traces' ? <TracesPage /> : null}
      {view === 'sessions' ? <SessionsPage /> : null}
      <Toasts />
    </div>
  );
}
