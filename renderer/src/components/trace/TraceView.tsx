// The trace tab's content for one set of spans: a toolbar, the tree with its waterfall, and
// the selected span's details. Owns what the user does to the view (collapsed rows, selection,
// search), so the tree itself stays a pure function of its props.
import { useCallback, useMemo, useState } from 'react';
import { flattenTree } from '../../../../shared/span-tree';
import type { TraceSpan } from '../../../../shared/traces/types';
import type { TraceModel } from '../../lib/spans';
import { Icon } from '../ui/Icon';
import { SpanDetails } from './SpanDetails';
import { TraceTree } from './TraceTree';
import { formatNanos } from '../../lib/spans';
import './Trace.css';

interface Props {
  model: TraceModel;
  traceId?: string;
  /** Spans the engine dropped or could not read, from the response. */
  dropped?: number;
  malformed?: number;
  live?: boolean;
  /** Spans on the critical path, highlighted (the Traces view). */
  critical?: ReadonlySet<string> | null;
  /** The stored spans by id, for what the tree's span shape lacks: service, events, links. */
  stored?: ReadonlyMap<string, TraceSpan>;
}

export function TraceView({ model, traceId, dropped = 0, malformed = 0, live = false, critical = null, stored }: Props) {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [query, setQuery] = useState('');

  const rows = useMemo(() => flattenTree(model.root, { collapsed }), [model, collapsed]);
  const selected = useMemo(() => (selectedId ? rows.find((r) => r.span.spanId === selectedId)?.span : undefined), [rows, selectedId]);
  const q = query.trim().toLowerCase();
  const matches = useMemo(() => {
    if (!q) return null;
    const set = new Set<string>();
    for (const row of rows) if (row.span.name.toLowerCase().includes(q) || row.span.spanId.startsWith(q)) set.add(row.span.spanId);
    return set;
  }, [rows, q]);

  const toggle = useCallback((spanId: string) => {
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(spanId)) next.delete(spanId);
      else next.add(spanId);
      return next;
    });
  }, []);

  const nextMatch = (): void => {
    if (!matches || matches.size === 0) return;
    const start = rows.findIndex((r) => r.span.spanId === selectedId);
    for (let i = 1; i <= rows.length; i++) {
      const row = rows[(start + i) % rows.length];
      if (row && matches.has(row.span.spanId)) {
        setSelectedId(row.span.spanId);
        return;
      }
    }
  };

  const total = Number(model.endNs - model.startNs);
  if (model.spanCount === 0) {
    return (
      <div className="trace-view" data-testid="trace-view">
        <div className="empty-state">
          <strong>{live ? 'Waiting for spans…' : 'No spans'}</strong>
          <span>
            Spans appear here while the program runs: Loom's own phases, and the program's from <code>loom_trace</code> (Python) or{' '}
            <code>loom-trace.js</code> (Node).
          </span>
        </div>
      </div>
    );
  }

  return (
    <div className="trace-view" data-testid="trace-view">
      <div className="trace-toolbar">
        <span className="trace-summary">
          <strong className="num">{model.spanCount.toLocaleString()}</strong> spans
          {model.errorCount > 0 ? (
            <span className="badge badge-err" data-testid="trace-error-count">
              {model.errorCount} error{model.errorCount === 1 ? '' : 's'}
            </span>
          ) : null}
          <span className="faint num">{formatNanos(total)}</span>
          {dropped > 0 ? <span className="badge badge-warn">{dropped.toLocaleString()} dropped</span> : null}
          {malformed > 0 ? <span className="badge badge-warn">{malformed.toLocaleString()} malformed</span> : null}
          {traceId ? (
            <code className="trace-id faint" title="Trace id">
              {traceId}
            </code>
          ) : null}
        </span>
        <div className="toolbar-spacer" />
        <label className="trace-search">
          <Icon name="search" size={13} />
          <span className="sr-only">Find spans</span>
          <input
            type="search"
            placeholder="Find span"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') nextMatch();
              if (e.key === 'Escape' && query) {
                e.preventDefault();
                setQuery('');
              }
            }}
            data-testid="trace-search"
          />
          {matches ? <span className="faint num">{matches.size}</span> : null}
        </label>
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => setCollapsed(new Set())} title="Expand every span">
          <Icon name="expand" size={13} />
          Expand all
        </button>
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => setCollapsed(new Set(model.parents))} title="Collapse every span">
          <Icon name="collapse" size={13} />
          Collapse all
        </button>
      </div>
      <div className="trace-body">
        <TraceTree
          rows={rows}
          model={model}
          collapsed={collapsed}
          selectedId={selectedId}
          matches={matches}
          critical={critical}
          onSelect={setSelectedId}
          onToggle={toggle}
        />
        {selected ? <SpanDetails span={selected} stored={stored?.get(selected.spanId)} model={model} onClose={() => setSelectedId(null)} /> : null}
      </div>
    </div>
  );
}
