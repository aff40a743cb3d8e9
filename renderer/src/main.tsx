// Start-up: connect the store to the engine (IPC in Electron, WebSocket in a browser), start
// the background work (event stream, engine status, history, examples, draft saving), render.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getLoomClient } from './api/client';
import { App } from './App';
import { useApp } from './store/app-store';
import { setClient } from './store/client';
import { persistDraft } from './store/draft-actions';
import { checkEngine, watchEngine } from './store/engine-actions';
import { loadExamples } from './store/examples-actions';
import { loadHistory } from './store/history-actions';
import { handleEvent, refreshActiveRuns } from './store/run-actions';
import { followSystemTheme } from './store/ui-actions';

const container = document.getElementById('root');
if (!container) throw new Error('renderer/index.html has no #root element');

// Before the first paint, so a dark-theme user never sees a white flash.
document.documentElement.dataset['theme'] = useApp.getState().theme;

const client = getLoomClient();
setClient(client);
client.onEvent(handleEvent);
// Browser mode reconnects by itself; what happened while it was away is asked for again.
client.onConnectionChange?.((connected) => {
  if (!connected) return;
  void checkEngine();
  void loadHistory();
  void refreshActiveRuns();
  useApp.setState((s) => ({ poolVersion: s.poolVersion + 1, tracesVersion: s.tracesVersion + 1 }));
});
watchEngine();
followSystemTheme();
persistDraft();
void loadHistory();
void loadExamples();

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
