// The traces that match the filters, newest first. Every text here comes from senders: shown as text.
import type { TraceSummary } from '../../../../shared/api';
import { formatNanos } from '../../lib/spans';

interface Props {
  traces: readonly TraceSummary[];
  selectedId: string | null;
  onSelect: (traceId: string) => void;
}

export function TraceList({ traces, selectedId, onSelect }: Props) {
  if (traces.length === 0) {
    return (
      <div className="empty-state" data-testid="traces-empty">
        <strong>No traces</strong>
        <span>Send spans to the OTLP receiver, import a file, or run something.</span>
      </div>
    );
  }
  return (
    <ul className="trace-list" role="listbox" aria-label="Traces" data-testid="traces-list">
      {traces.map((t) => (
        <li
          key={t.traceId}
          role="option"
          aria-selected={t.traceId === selectedId}
          className={`trace-item${t.traceId === selectedId ? ' is-selected' : ''}`}
          onClick={() => onSelect(t.traceId)}
          data-testid="trace-item"
          data-trace-id={t.traceId}
        >
          <div className="trace-item-top">
            <strong className="trace-item-name" title={t.rootName}>
              {t.rootName || '(unnamed)'}
            </strong>
            {t.errorCount > 0 ? <span className="badge badge-err">{t.errorCount}</span> : null}
            <span className="num faint">{formatNanos(t.durationMs * 1e6)}</span>
          </div>
          <div className="trace-item-sub faint">
            <span title={t.services.join(', ')}>{t.services.join(', ') || '—'}</span>
            <span className="num">{t.spanCount.toLocaleString()} spans</span>
            {!t.complete ? <span title="The root span has not arrived (yet)">partial</span> : null}
            <span className="num">{new Date(t.startMs).toLocaleTimeString()}</span>
          </div>
        </li>
      ))}
    </ul>
  );
}
