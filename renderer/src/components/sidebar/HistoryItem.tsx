import { memo } from 'react';
import type { RunSummary } from '../../../../shared/api';
import { formatMs, formatRelative } from '../../lib/format';
import { deleteRun, openRun, rerun } from '../../store/run-actions';
import type { RunViewStatus } from '../../store/run-view';
import { Icon } from '../ui/Icon';
import { RunStatusIcon, statusLabel } from './RunStatusIcon';

interface Props {
  summary: RunSummary;
  status: RunViewStatus;
  selected: boolean;
  now: number;
}

const RUNTIME_SHORT: Record<string, string> = { python: 'py', node: 'js', bash: 'sh', go: 'go', rust: 'rs', ruby: 'rb', java: 'java', custom: 'img' };

export const HistoryItem = memo(function HistoryItem({ summary, status, selected, now }: Props) {
  const title = summary.title || '(empty program)';
  return (
    <li className={`history-item${selected ? ' selected' : ''}`} data-testid="history-item" data-run-id={summary.id} data-status={status}>
      <button
        type="button"
        className="history-open"
        onClick={() => void openRun(summary.id)}
        aria-current={selected ? 'true' : undefined}
        aria-label={`${title}: ${statusLabel(status)}${summary.durationMs !== undefined ? `, ${formatMs(summary.durationMs)}` : ''}`}
      >
        <RunStatusIcon status={status} />
        <span className="history-main">
          <span className="history-title" title={title}>
            {title}
          </span>
          <span className="history-meta">
            <span className="history-runtime">{RUNTIME_SHORT[summary.runtime] ?? summary.runtime}</span>
            {summary.exitCode !== undefined && status !== 'ok' && status !== 'error' ? <span className="num">exit {summary.exitCode}</span> : null}
            {summary.durationMs !== undefined ? <span className="num">{formatMs(summary.durationMs)}</span> : null}
            {summary.containerCreated !== undefined ? (
              <span className={`badge ${summary.containerCreated ? 'badge-info' : 'badge-ok'}`} data-testid="history-start-badge">
                {summary.containerCreated ? 'cold' : 'warm'}
              </span>
            ) : null}
            <span className="history-time" title={new Date(summary.startedAt).toLocaleString()}>
              {formatRelative(summary.startedAt, now)}
            </span>
          </span>
        </span>
      </button>
      <span className="history-actions">
        <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label={`Run again: ${title}`} title="Run again" data-testid="history-rerun" onClick={() => void rerun(summary.id)}>
          <Icon name="rerun" size={14} />
        </button>
        <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label={`Delete: ${title}`} title="Delete from history" data-testid="history-delete" onClick={() => void deleteRun(summary.id)}>
          <Icon name="trash" size={14} />
        </button>
      </span>
    </li>
  );
});
