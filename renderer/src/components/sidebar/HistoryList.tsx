// Past runs, newest first. Up/Down move between items; each item's actions are reachable by Tab.
import type { KeyboardEvent } from 'react';
import { useApp } from '../../store/app-store';
import { useNow } from '../../hooks/useNow';
import { HistoryItem } from './HistoryItem';

export function HistoryList() {
  const history = useApp((s) => s.history);
  const loaded = useApp((s) => s.historyLoaded);
  const selectedId = useApp((s) => s.selectedRunId);
  const runs = useApp((s) => s.runs);
  const now = useNow();

  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>): void => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const items = [...e.currentTarget.querySelectorAll<HTMLElement>('.history-open')];
    const index = items.indexOf(document.activeElement as HTMLElement);
    const next = items[Math.max(0, Math.min(items.length - 1, index + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  };

  if (!loaded) return <div className="empty-state">Loading…</div>;
  if (history.length === 0) {
    return (
      <div className="empty-state">
        <strong>No runs yet</strong>
        <span>Runs appear here, newest first. Press Run or pick an example.</span>
      </div>
    );
  }
  return (
    <ul className="history-list" aria-label="Run history" onKeyDown={onKeyDown}>
      {history.map((summary) => {
        const open = runs[summary.id];
        // A run open in this window knows its live status before run.finished lands in the list.
        const status = open && open.status !== 'starting' ? open.status : summary.status;
        return <HistoryItem key={summary.id} summary={summary} status={status} selected={summary.id === selectedId} now={now} />;
      })}
    </ul>
  );
}
