// The selected span in full: timing, identity, status and every attribute.
import type { Span } from '../../../../shared/gen/loom/v1/docker_pb';
import { SpanStatus } from '../../../../shared/gen/loom/v1/docker_pb';
import { formatDuration } from '../../../../shared/span-tree';
import { formatNanos, sourceLabel, statusLabel, type TraceModel } from '../../lib/spans';
import { copyText } from '../../lib/clipboard';
import { notify } from '../../store/app-store';
import { Icon } from '../ui/Icon';

/** Time of day in UTC to the nanosecond; the date goes in the tooltip (one trace is one day). */
function timeOfDay(ns: bigint): { text: string; title: string } {
  if (ns === 0n) return { text: '—', title: '' };
  const date = new Date(Number(ns / 1_000_000n));
  const sub = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return { text: `${date.toISOString().slice(11, 19)}.${sub}`, title: `${date.toISOString().slice(0, 10)} (UTC)` };
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function SpanDetails({ span, model, onClose }: { span: Span; model: TraceModel; onClose: () => void }) {
  const attributes = Object.entries(span.attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const error = span.status === SpanStatus.ERROR;
  const start = timeOfDay(span.startTimeUnixNano);
  const end = timeOfDay(span.endTimeUnixNano);
  const offset = span.startTimeUnixNano > 0n ? Number(span.startTimeUnixNano - model.startNs) : 0;
  const copy = (text: string, what: string): void => {
    copyText(text).then(
      () => notify(`${what} copied`),
      () => notify('Could not copy', 'error'),
    );
  };
  return (
    <aside className="span-details" aria-label={`Span ${span.name}`} data-testid="span-details">
      <div className="span-details-head">
        <div className="span-details-title">
          {error ? <Icon name="alert" size={14} className="trace-error-icon" /> : null}
          <strong title={span.name}>{span.name || '(unnamed)'}</strong>
        </div>
        <button type="button" className="btn btn-ghost btn-icon btn-sm" onClick={onClose} aria-label="Close span details" title="Close">
          <Icon name="x" size={14} />
        </button>
      </div>
      <div className="span-details-body">
        {error ? (
          <div className="span-error" role="note" data-testid="span-status-message">
            <strong>Error</strong>
            {span.statusMessage ? <pre>{span.statusMessage}</pre> : null}
          </div>
        ) : null}
        <dl className="kv">
          <dt>Duration</dt>
          <dd className="num">{formatDuration(span)}</dd>
          <dt>Starts at</dt>
          <dd className="num">+{formatNanos(offset)}</dd>
          <dt>Start</dt>
          <dd className="mono" title={start.title}>
            {start.text}
          </dd>
          <dt>End</dt>
          <dd className="mono" title={end.title}>
            {end.text}
          </dd>
          <dt>Source</dt>
          <dd>
            <span className={`source-badge source-${sourceLabel(span.source)}`}>{sourceLabel(span.source)}</span>
          </dd>
          <dt>Status</dt>
          <dd>
            {statusLabel(span.status)}
            {!error && span.statusMessage ? ` — ${span.statusMessage}` : ''}
          </dd>
          <dt>Span ID</dt>
          <dd className="mono copyable" onClick={() => copy(span.spanId, 'Span id')} title="Copy">
            {span.spanId}
          </dd>
          <dt>Parent ID</dt>
          <dd className="mono">{span.parentSpanId || '—'}</dd>
          <dt>Trace ID</dt>
          <dd className="mono copyable" onClick={() => copy(span.traceId, 'Trace id')} title="Copy">
            {span.traceId}
          </dd>
        </dl>
        <h4 className="span-section">
          Attributes <span className="faint num">{attributes.length}</span>
        </h4>
        {attributes.length === 0 ? (
          <p className="faint span-none">None</p>
        ) : (
          <dl className="kv attrs" data-testid="span-attributes">
            {attributes.map(([key, value]) => (
              <div key={key} className="kv-row">
                <dt title={key}>{key}</dt>
                <dd className="mono">{valueText(value)}</dd>
              </div>
            ))}
          </dl>
        )}
      </div>
    </aside>
  );
}
