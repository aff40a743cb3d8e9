// One trace of the Traces view: the waterfall (tree + bars, critical path highlighted), the
// flame graph, or the comparison with another trace; export, delete, "open in" a collector.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { CollectorTarget, TraceHead, TraceRecord, TraceSummary } from '../../../../shared/api';
import { errorText, notify, useApp } from '../../store/app-store';
import { getClient } from '../../store/client';
import { TraceView } from '../trace/TraceView';
import { Segmented } from '../ui/Segmented';
import { CompareView } from './CompareView';
import { FlameGraph } from './FlameGraph';
import { headData, traceData } from './trace-data';

type Tab = 'waterfall' | 'flame' | 'compare';
const TABS = [
  { value: 'waterfall', label: 'Waterfall', testId: 'trace-tab-waterfall', title: 'Span tree and timeline' },
  { value: 'flame', label: 'Flame graph', testId: 'trace-tab-flame', title: 'Nesting by time' },
  { value: 'compare', label: 'Compare', testId: 'trace-tab-compare', title: 'Against another trace' },
] as const;

interface Props {
  traceId: string;
  /** Other traces of the list, to compare with. */
  others: readonly TraceSummary[];
  collector: CollectorTarget | null;
  onDeleted: () => void;
}

/** Rows fetched first: a screenful and some scrolling, before the whole trace arrives. */
export const HEAD_SPANS = 200;

interface Fetched {
  id: string | null;
  head: TraceHead | null;
  record: TraceRecord | null;
  error: string | null;
}

/**
 * A fetched trace, refetched when its spans change (a late parent, more spans). The first fetch
 * asks for the head (the first rows in display order) and then the whole trace, so that a big
 * trace paints its first rows long before all its spans have arrived; a refetch asks for the
 * whole trace only (the view already shows it).
 */
function useTrace(traceId: string | null, withHead = true): Fetched {
  const version = useApp((s) => s.tracesVersion);
  const [changes, setChanges] = useState(0);
  const seenVersion = useRef(version);
  const [state, setState] = useState<Fetched>({ id: null, head: null, record: null, error: null });
  const shown = useRef<string | null>(null);
  useEffect(() => {
    if (version === seenVersion.current) return;
    seenVersion.current = version;
    if (traceId && useApp.getState().changedTraceIds.includes(traceId)) setChanges((n) => n + 1);
  }, [version, traceId]);
  useEffect(() => {
    if (!traceId) return undefined;
    let live = true;
    const client = getClient();
    const failed = (err: unknown): void => {
      if (live) setState({ id: traceId, head: null, record: null, error: errorText(err) });
    };
    const gone = (): void => setState({ id: traceId, head: null, record: null, error: 'This trace is no longer stored.' });
    const whole = (): void => {
      client.getTrace(traceId).then((record) => {
        if (!live) return;
        if (!record) return gone();
        shown.current = traceId;
        setState({ id: traceId, head: null, record, error: null });
      }, failed);
    };
    if (!withHead || shown.current === traceId) whole();
    else {
      client.getTraceHead(traceId, HEAD_SPANS).then((head) => {
        if (!live) return;
        if (!head) return gone();
        setState({ id: traceId, head, record: null, error: null });
        if (head.spans.length < head.summary.spanCount) whole();
        else {
          // The head is the whole trace.
          shown.current = traceId;
          setState({ id: traceId, head: null, record: { summary: head.summary, spans: head.spans }, error: null });
        }
      }, failed);
    }
    return () => {
      live = false;
    };
  }, [traceId, changes, withHead]);
  return state.id === traceId ? state : { id: traceId, head: null, record: null, error: null };
}

export function TraceDetail({ traceId, others, collector, onDeleted }: Props) {
  const [tab, setTab] = useState<Tab>('waterfall');
  const [showCritical, setShowCritical] = useState(true);
  const [compareId, setCompareId] = useState<string>('');
  const { record, head, error } = useTrace(traceId);
  const other = useTrace(tab === 'compare' && compareId ? compareId : null, false);
  const data = useMemo(() => (record ? traceData(record) : head ? headData(head) : null), [record, head]);

  if (error) return <div className="empty-state">{error}</div>;
  if (!data) return <div className="empty-state" data-testid="trace-loading">Loading the trace…</div>;
  const { summary } = data.record;

  const exportFile = async (): Promise<void> => {
    try {
      const json = await getClient().exportTrace(traceId);
      const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `trace-${traceId}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      notify(errorText(err), 'error');
    }
  };
  const openInCollector = async (): Promise<void> => {
    try {
      const target = await getClient().sendTraceToCollector(traceId);
      notify(target.viewUrl ? `Sent to the collector: ${target.viewUrl}` : `Sent to ${target.endpoint}`);
    } catch (err) {
      notify(errorText(err), 'error');
    }
  };
  const remove = async (): Promise<void> => {
    try {
      await getClient().deleteTrace(traceId);
      onDeleted();
    } catch (err) {
      notify(errorText(err), 'error');
    }
  };

  return (
    <div className="trace-detail" data-testid="trace-detail" data-trace-id={traceId} data-complete={data.partial ? 'false' : 'true'}>
      <div className="trace-toolbar">
        <strong className="trace-detail-name" title={summary.rootName}>
          {summary.rootName || '(unnamed)'}
        </strong>
        <Segmented label="Trace view" value={tab} options={TABS} onChange={setTab} testId="trace-tabs" />
        {tab === 'waterfall' || tab === 'flame' ? (
          <label className="compare-toggle" title="Highlight what the trace's duration waited for">
            <input type="checkbox" checked={showCritical} onChange={(e) => setShowCritical(e.target.checked)} data-testid="critical-toggle" /> Critical path
          </label>
        ) : (
          <select value={compareId} onChange={(e) => setCompareId(e.target.value)} aria-label="Compare with" data-testid="compare-with">
            <option value="">Compare with…</option>
            {others
              .filter((t) => t.traceId !== traceId)
              .map((t) => (
                <option key={t.traceId} value={t.traceId}>
                  {t.rootName || '(unnamed)'} · {t.traceId.slice(0, 8)} · {new Date(t.startMs).toLocaleTimeString()}
                </option>
              ))}
          </select>
        )}
        {data.partial ? (
          <span className="badge" data-testid="trace-loading-rest" title="The first rows are shown; search, the critical path, the flame graph and the comparison wait for every span">
            Loading {(summary.spanCount - data.record.spans.length).toLocaleString()} more spans…
          </span>
        ) : null}
        <div className="toolbar-spacer" />
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => void exportFile()} data-testid="trace-export" title="Download as OTLP JSON">
          Export
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-sm"
          onClick={() => void openInCollector()}
          disabled={!collector}
          title={collector ? `Send to ${collector.endpoint}` : 'No collector configured (LOOM_TRACE_COLLECTOR, or loom ui --collector)'}
          data-testid="trace-open-in"
        >
          Open in collector
        </button>
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => void remove()} data-testid="trace-delete">
          Delete
        </button>
      </div>
      <div className="trace-detail-body">
        {tab === 'waterfall' ? (
          <TraceView model={data.model} traceId={traceId} dropped={summary.droppedSpans} critical={showCritical ? data.critical : null} stored={data.stored} />
        ) : data.partial ? (
          <div className="empty-state" data-testid="trace-loading">
            Loading the trace…
          </div>
        ) : tab === 'flame' ? (
          <FlameGraph model={data.model} critical={showCritical ? data.critical : null} />
        ) : other.record ? (
          <CompareView before={data.record.spans} after={other.record.spans} />
        ) : (
          <div className="empty-state">
            <strong>Compare with another trace</strong>
            <span>Spans are matched by their path of names: added, removed, slower, faster and changed attributes show.</span>
          </div>
        )}
      </div>
    </div>
  );
}
