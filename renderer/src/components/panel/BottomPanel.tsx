// Under the editor: Output, Trace and Stdin as tabs (Ctrl/Cmd+1/2/3), and the run's facts at
// the right of the tab strip so they stay visible whichever tab is open.
import type { KeyboardEvent } from 'react';
import { useApp, type BottomTab } from '../../store/app-store';
import { useSelectedRun } from '../../store/selectors';
import { setTab } from '../../store/ui-actions';
import { useFrameVersion } from '../../hooks/useFrameVersion';
import { OutputPane } from '../output/OutputPane';
import { RunBadges } from '../output/RunBadges';
import { TracePane } from '../trace/TracePane';
import { StdinPane } from './StdinPane';
import type { RunView } from '../../store/run-view';
import './BottomPanel.css';

const TABS: { id: BottomTab; label: string; key: string }[] = [
  { id: 'output', label: 'Output', key: '1' },
  { id: 'trace', label: 'Trace', key: '2' },
  { id: 'stdin', label: 'Stdin', key: '3' },
];

export function BottomPanel() {
  const tab = useApp((s) => s.tab);
  const run = useSelectedRun();
  const stdinSet = useApp((s) => s.stdin !== '');

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const index = TABS.findIndex((t) => t.id === tab);
    const next = TABS[(index + step + TABS.length) % TABS.length];
    if (next) {
      setTab(next.id);
      document.getElementById(`panel-tab-${next.id}`)?.focus();
    }
  };

  return (
    <section className="bottom-panel" aria-label="Run results">
      <div className="panel-header bottom-header">
        <div className="tabs" role="tablist" aria-label="Results" onKeyDown={onKeyDown}>
          {TABS.map((t) => (
            <button
              key={t.id}
              id={`panel-tab-${t.id}`}
              type="button"
              role="tab"
              className="tab"
              aria-selected={tab === t.id}
              aria-controls={`panel-${t.id}`}
              tabIndex={tab === t.id ? 0 : -1}
              aria-keyshortcuts={`Control+${t.key} Meta+${t.key}`}
              title={`${t.label} (Ctrl/⌘+${t.key})`}
              data-testid={`tab-${t.id}`}
              onClick={() => setTab(t.id)}
            >
              {t.label}
              {t.id === 'trace' && run ? <SpanCount run={run} /> : null}
              {t.id === 'stdin' && stdinSet ? <span className="tab-dot" aria-label="(has input)" /> : null}
            </button>
          ))}
        </div>
        <div className="toolbar-spacer" />
        {run ? <RunBadges run={run} /> : null}
      </div>
      <div className="bottom-body" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`panel-tab-${tab}`}>
        {tab === 'output' ? <OutputPane run={run} /> : tab === 'trace' ? <TracePane run={run} /> : <StdinPane />}
      </div>
    </section>
  );
}

function SpanCount({ run }: { run: RunView }) {
  useFrameVersion(run.spans);
  return run.spans.size > 0 ? <span className="count">{run.spans.size.toLocaleString()}</span> : null;
}
