// Shown under the top bar while the engine is unreachable: the engine's own explanation
// (EngineStatus.error says what is wrong and how to fix it) and when it is asked again.
import { useApp } from '../../store/app-store';
import { checkEngine, RETRY_MS } from '../../store/engine-actions';
import { Icon } from '../ui/Icon';
import { Spinner } from '../ui/Spinner';

export function EngineBanner() {
  const engine = useApp((s) => s.engine);
  const checking = useApp((s) => s.engineChecking);
  if (!engine || engine.ok) return null;
  return (
    <div className="engine-banner" role="alert" data-testid="engine-banner">
      <Icon name="alert" size={16} />
      <div className="engine-banner-text">
        <strong>The Docker engine is not reachable{engine.address ? ` at ${engine.address}` : ''}.</strong>
        <span className="engine-banner-error">{engine.error ?? 'No reason given.'}</span>
      </div>
      <span className="engine-banner-retry faint">{checking ? <Spinner size={12} /> : `Checking every ${RETRY_MS / 1000} s`}</span>
      <button type="button" className="btn btn-sm" onClick={() => void checkEngine()} disabled={checking}>
        Retry now
      </button>
    </div>
  );
}
