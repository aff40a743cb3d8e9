// Run and Cancel. Run is disabled while the form has errors (the form says which); Cancel
// is live while the shown run is.
import { cancelSelected, runCurrent } from '../../store/run-actions';
import { useCanRun, useSelectedRunActive } from '../../store/selectors';
import { Icon } from '../ui/Icon';

const MOD = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

export function RunControls() {
  const canRun = useCanRun();
  const active = useSelectedRunActive();
  return (
    <div className="run-controls">
      <button
        type="button"
        className="btn btn-primary run-button"
        data-testid="run-button"
        disabled={!canRun}
        onClick={() => void runCurrent()}
        title={canRun ? `Run (${MOD}+Enter)` : 'Fix the highlighted fields in the request form to run'}
        aria-keyshortcuts="Control+Enter Meta+Enter"
      >
        <Icon name="play" size={14} />
        Run
        <kbd>{MOD}</kbd>
        <kbd>↵</kbd>
      </button>
      <button
        type="button"
        className="btn"
        data-testid="cancel-button"
        disabled={!active}
        onClick={cancelSelected}
        title="Cancel the run (Esc)"
        aria-keyshortcuts="Escape"
      >
        <Icon name="stop" size={12} />
        Cancel
        <kbd>Esc</kbd>
      </button>
    </div>
  );
}
