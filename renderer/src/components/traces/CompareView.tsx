// Two traces compared: spans matched by path of names; added, removed, slower, faster, and the
// attributes that differ. Untrusted names and values are shown as text.
import { useMemo, useState } from 'react';
import type { TraceSpan } from '../../../../shared/api';
import { compareTraces, type SpanComparison } from '../../../../shared/traces/compare';
import { formatNanos } from '../../lib/spans';

interface Props {
  before: readonly TraceSpan[];
  after: readonly TraceSpan[];
}

const ms = (v: number | undefined): string => (v === undefined ? '—' : formatNanos(v * 1e6));

export function CompareView({ before, after }: Props) {
  const [changedOnly, setChangedOnly] = useState(true);
  const rows = useMemo(() => compareTraces(before, after), [before, after]);
  const shown = changedOnly ? rows.filter((r) => r.change !== 'same' || r.attributes.length > 0 || r.statusChanged) : rows;
  const counts = rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.change]: (acc[r.change] ?? 0) + 1 }), {});
  return (
    <div className="compare" data-testid="compare-view">
      <div className="trace-toolbar">
        <span className="trace-summary">
          {(['added', 'removed', 'slower', 'faster', 'same'] as const).map((c) => (
            <span key={c} className={`change-badge change-${c}`}>
              {counts[c] ?? 0} {c}
            </span>
          ))}
        </span>
        <div className="toolbar-spacer" />
        <label className="compare-toggle">
          <input type="checkbox" checked={changedOnly} onChange={(e) => setChangedOnly(e.target.checked)} data-testid="compare-changed-only" /> Changed only
        </label>
      </div>
      <div className="compare-scroll">
        <table className="compare-table">
          <thead>
            <tr>
              <th>Span (path of names)</th>
              <th>Change</th>
              <th className="num">Before</th>
              <th className="num">After</th>
              <th>Attributes</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <CompareRow key={row.path} row={row} />
            ))}
          </tbody>
        </table>
        {shown.length === 0 ? <p className="faint span-none">No differences.</p> : null}
      </div>
    </div>
  );
}

function CompareRow({ row }: { row: SpanComparison }) {
  const name = row.path.split(' > ').at(-1) ?? row.path;
  return (
    <tr className={`compare-row change-${row.change}`} data-testid="compare-row" data-change={row.change} data-path={row.path}>
      <td title={row.path} style={{ paddingLeft: 8 + Math.min(row.depth, 24) * 12 }}>
        {name}
      </td>
      <td>
        <span className={`change-badge change-${row.change}`}>{row.change}</span>
        {row.statusChanged ? <span className="badge badge-warn">status</span> : null}
      </td>
      <td className="num">{ms(row.beforeMs)}</td>
      <td className="num">{ms(row.afterMs)}</td>
      <td>
        {row.attributes.map((a) => (
          <div key={a.key} className="attr-diff mono" data-testid="attr-diff">
            {a.key}: {a.before === undefined ? '∅' : JSON.stringify(a.before)} → {a.after === undefined ? '∅' : JSON.stringify(a.after)}
          </div>
        ))}
      </td>
    </tr>
  );
}
