// The engine light: green with Docker's version, red when the engine cannot be used (the
// banner under the top bar then says why and how to fix it), grey while the first check runs.
import { useApp } from '../../store/app-store';

export function EngineStatusLight() {
  const engine = useApp((s) => s.engine);
  const state = engine === null ? 'unknown' : engine.ok ? 'ok' : 'down';
  const label =
    state === 'unknown' ? 'Checking engine…' : state === 'ok' ? `Docker ${engine?.version ?? ''}`.trim() : 'Engine unreachable';
  const title =
    state === 'ok' && engine
      ? `Docker engine ${engine.version ?? '?'} (API ${engine.apiVersion ?? '?'}) at ${engine.address}`
      : (engine?.error ?? 'Asking the engine for its status');
  return (
    <div className={`engine-light engine-${state}`} data-testid="engine-status" data-state={state} title={title} role="status" aria-live="polite">
      <span className="engine-dot" aria-hidden="true" />
      <span className="engine-label">{label}</span>
    </div>
  );
}
