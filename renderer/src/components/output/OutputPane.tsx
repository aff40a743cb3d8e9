// The Output tab: what Loom is doing before the program runs (phases, pull, install), a Loom
// error if it could not run it, then the program's own stdout and stderr.
import { useState } from 'react';
import { copyText } from '../../lib/clipboard';
import { notify } from '../../store/app-store';
import { loadJson, saveJson } from '../../store/persist';
import { isActive, type RunView } from '../../store/run-view';
import { useFrameVersion } from '../../hooks/useFrameVersion';
import { Icon } from '../ui/Icon';
import { InstallLog } from './InstallLog';
import { LoomErrorPanel } from './LoomErrorPanel';
import { OUTPUT_REDRAW_MS, OutputView } from './OutputView';
import { RunArtifacts } from './RunArtifacts';
import { PhaseSteps } from './PhaseSteps';
import { PullProgress } from './PullProgress';
import './Output.css';

const MOD = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

export function OutputPane({ run }: { run: RunView | undefined }) {
  const [wrap, setWrapState] = useState(() => loadJson('wrap', (v): v is boolean => typeof v === 'boolean') ?? true);
  const setWrap = (value: boolean): void => {
    setWrapState(value);
    saveJson('wrap', value);
  };
  if (!run) {
    return (
      <div className="output-pane" data-testid="output-pane">
        <div className="empty-state">
          <strong>Nothing has run yet</strong>
          <span>
            Press <kbd>{MOD}</kbd> <kbd>Enter</kbd> to run the program in a fresh, locked-down container.
          </span>
        </div>
      </div>
    );
  }
  const active = isActive(run.status);
  const packages = run.request.config?.packages ?? [];
  const p = run.progress;
  const pulling = p.pull !== undefined;
  const installing = p.installLog.length > 0;
  return (
    <div className="output-pane" data-testid="output-pane" data-run-id={run.id} data-status={run.status}>
      <div className="output-toolbar">
        <PhaseSteps
          progress={p}
          active={active}
          failed={run.status === 'error' || run.status === 'cancelled' || run.status === 'interrupted'}
          hasPackages={packages.length > 0}
        />
        <div className="toolbar-spacer" />
        {run.origin === 'history' && run.response?.stdout && run.response.stderr ? (
          <span className="faint output-note" title="A stored run keeps stdout and stderr apart, so their interleaving is not known">
            stdout, then stderr
          </span>
        ) : null}
        <OutputStats run={run} />
        <button
          type="button"
          className={`btn btn-ghost btn-icon btn-sm${wrap ? ' is-on' : ''}`}
          aria-pressed={wrap}
          aria-label="Wrap long lines"
          title="Wrap long lines"
          onClick={() => setWrap(!wrap)}
        >
          <Icon name="wrap" size={14} />
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-icon btn-sm"
          aria-label="Copy output"
          title="Copy output"
          onClick={() => {
            copyText(run.output.text()).then(
              () => notify('Output copied'),
              (err: unknown) => notify(`Could not copy: ${String(err)}`, 'error'),
            );
          }}
        >
          <Icon name="copy" size={14} />
        </button>
      </div>
      {pulling || installing || run.error ? (
        <div className="output-prep">
          {p.pull ? <PullProgress pull={p.pull} done={p.phasesSeen.includes('container') || !active} /> : null}
          {installing ? <InstallLog lines={p.installLog} dropped={p.installLogDropped} active={active && p.phase === 'packages'} packages={packages} /> : null}
          {run.error ? <LoomErrorPanel error={run.error} /> : null}
        </div>
      ) : null}
      <OutputBody run={run} wrap={wrap} />
      {run.artifacts?.length ? <RunArtifacts artifacts={run.artifacts} /> : null}
    </div>
  );
}

function OutputBody({ run, wrap }: { run: RunView; wrap: boolean }) {
  useFrameVersion(run.output, OUTPUT_REDRAW_MS);
  if (run.output.isEmpty) {
    const active = isActive(run.status);
    return (
      <div className="output-empty faint" data-testid="output-empty">
        {active ? (run.progress.phase === 'running' ? 'Waiting for output…' : 'Preparing the container…') : run.error ? '' : 'The program printed nothing.'}
      </div>
    );
  }
  return <OutputView buffer={run.output} wrap={wrap} />;
}

function OutputStats({ run }: { run: RunView }) {
  useFrameVersion(run.output, OUTPUT_REDRAW_MS);
  const { stdout, stderr } = run.output.totals;
  if (stdout + stderr === 0) return null;
  return (
    <span className="output-stats faint num" title="Characters received on each stream">
      <span>stdout {stdout.toLocaleString()}</span>
      <span className={stderr > 0 ? 'has-stderr' : undefined}>stderr {stderr.toLocaleString()}</span>
    </span>
  );
}
