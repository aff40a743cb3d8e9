// The selected span in full: timing, identity, status and every attribute.
import type { Span } from '../../../../shared/gen/loom/v1/docker_pb';
import type { Attributes, TraceSpan } from '../../../../shared/traces/types';
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

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

/** Attributes as a key/value list; values are text, never markup. */
function AttributeList({ attributes, testId }: { attributes: Attributes; testId?: string }) {
  const entries = Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return <p className="faint span-none">None</p>;
  return (
    <dl className="kv attrs" data-testid={testId}>
      {entries.map(([key, value]) => (
        <div key={key} className="kv-row">
          <dt title={key}>{key}</dt>
          <dd className="mono">{valueText(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** What only stored spans have: service, kind, events and links. */
function StoredSections({ stored, model }: { stored: TraceSpan; model: TraceModel }) {
  return (
    <>
      <dl className="kv">
        <dt>Service</dt>
        <dd data-testid="span-service">{stored.service || '—'}</dd>
        <dt>Kind</dt>
        <dd>{KINDS[stored.kind] ?? stored.kind}</dd>
        {stored.scope ? (
          <>
            <dt>Scope</dt>
            <dd className="mono">{stored.scope}</dd>
          </>
        ) : null}
      </dl>
      <h4 className="span-section">
        Events <span className="faint num">{stored.events.length}</span>
      </h4>
      {stored.events.length === 0 ? (
        <p className="faint span-none">None</p>
      ) : (
        <ol className="span-events" data-testid="span-events">
          {stored.events.map((event, i) => {
            const at = /^\d+$/.test(event.timeUnixNano) ? Number(BigInt(event.timeUnixNano) - model.startNs) : 0;
            return (
              <li key={i}>
                <span className="num faint">+{formatNanos(at)}</span> <strong>{event.name}</strong>
                {Object.keys(event.attributes).length ? <AttributeList attributes={event.attributes} /> : null}
              </li>
            );
          })}
        </ol>
      )}
      <h4 className="span-section">
        Links <span className="faint num">{stored.links.length}</span>
      </h4>
      {stored.links.length === 0 ? (
        <p className="faint span-none">None</p>
      ) : (
        <ul className="span-links" data-testid="span-links">
          {stored.links.map((link, i) => (
            <li key={i} className="mono">
              {link.traceId} / {link.spanId}
              {Object.keys(link.attributes).length ? <AttributeList attributes={link.attributes} /> : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export function SpanDetails({ span, stored, model, onClose }: { span: Span; stored?: TraceSpan; model: TraceModel; onClose: () => void }) {
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
        {stored ? <StoredSections stored={stored} model={model} /> : null}
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
