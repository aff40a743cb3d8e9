// The Traces view: every trace the store holds (received over OTLP, imported, every run's),
// filtered on the left, the selected one on the right. The list follows new spans live.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { CollectorTarget, ReceiverStatus, TraceSummary } from '../../../../shared/api';
import { errorText, notify, useApp } from '../../store/app-store';
import { getClient } from '../../store/client';
import { TraceDetail } from './TraceDetail';
import { TraceFilters } from './TraceFilters';
import { TraceList } from './TraceList';
import { EMPTY_FILTERS, toTraceQuery, type TraceFilterForm } from './trace-filters';
import './Traces.css';

/** Typing in the filters waits this long before asking again. */
const FILTER_DELAY_MS = 200;

export function TracesPage() {
  const version = useApp((s) => s.tracesVersion);
  const [filters, setFilters] = useState<TraceFilterForm>(EMPTY_FILTERS);
  const [traces, setTraces] = useState<TraceSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(() => useApp.getState().traceToOpen);
  const [receiver, setReceiver] = useState<ReceiverStatus | null>(null);
  const [collector, setCollector] = useState<CollectorTarget | null>(null);
  const [reload, setReload] = useState(0);
  const fileRef = useRef<HTMLInputElement>(null);

  // Taken once: coming back to the view later opens what the user chose, not this again.
  useEffect(() => {
    if (useApp.getState().traceToOpen) useApp.setState({ traceToOpen: null });
  }, []);

  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      getClient()
        .listTraces(toTraceQuery(filters))
        .then(
          (list) => {
            if (!live) return;
            setTraces(list);
            setError(null);
          },
          (err: unknown) => live && setError(errorText(err)),
        );
      getClient()
        .traceReceiverStatus()
        .then((s) => live && setReceiver(s), () => undefined);
    }, FILTER_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [filters, version, reload]);

  useEffect(() => {
    getClient()
      .traceCollector()
      .then(setCollector, () => undefined);
  }, []);

  const services = useMemo(() => [...new Set((traces ?? []).flatMap((t) => t.services))].sort(), [traces]);

  const importFile = async (file: File): Promise<void> => {
    try {
      const { traceIds, spans } = await getClient().importTraces(await file.text());
      notify(`Imported ${spans.toLocaleString()} spans of ${traceIds.length} trace${traceIds.length === 1 ? '' : 's'}`);
      setSelectedId(traceIds[0] ?? null);
      setReload((n) => n + 1);
    } catch (err) {
      notify(errorText(err), 'error');
    }
  };

  return (
    <div className="traces-page" data-testid="traces-page">
      <aside className="traces-side">
        <div className="receiver-line" data-testid="receiver-status">
          {receiver === null ? null : receiver.listening ? (
            <>
              <span className="status-dot ok" /> OTLP at <code>{receiver.url}</code>
              <span className="faint num" title="Spans accepted; malformed and refused requests">
                {receiver.acceptedSpans.toLocaleString()} spans
                {receiver.malformedRequests + receiver.refusedRequests > 0 ? ` · ${receiver.malformedRequests} malformed · ${receiver.refusedRequests} refused` : ''}
              </span>
            </>
          ) : receiver.enabled ? (
            <>
              <span className="status-dot err" /> {receiver.error ?? 'The OTLP receiver is not listening.'}
            </>
          ) : (
            <>
              <span className="status-dot" /> The OTLP receiver is off.
            </>
          )}
        </div>
        <TraceFilters value={filters} services={services} onChange={setFilters} />
        <div className="traces-actions">
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => fileRef.current?.click()} data-testid="traces-import">
            Import OTLP JSON…
          </button>
          <input
            ref={fileRef}
            type="file"
            accept=".json,application/json"
            hidden
            data-testid="traces-import-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void importFile(file);
            }}
          />
          <span className="faint num">{traces ? `${traces.length} trace${traces.length === 1 ? '' : 's'}` : ''}</span>
        </div>
        {error ? <div className="traces-error">{error}</div> : null}
        {traces ? <TraceList traces={traces} selectedId={selectedId} onSelect={setSelectedId} /> : null}
      </aside>
      <section className="traces-main">
        {selectedId ? (
          <TraceDetail
            key={selectedId}
            traceId={selectedId}
            others={traces ?? []}
            collector={collector}
            onDeleted={() => {
              setSelectedId(null);
              setReload((n) => n + 1);
            }}
          />
        ) : (
          <div className="empty-state">
            <strong>Pick a trace</strong>
            <span>
              Point an OpenTelemetry exporter at the receiver (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318) and its traces appear here; a run started
              with a traceparent nests under that span.
            </span>
          </div>
        )}
      </section>
    </div>
  );
}
