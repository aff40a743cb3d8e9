// Column titles and the waterfall's time axis: a label at each quarter gridline (the total is
// in the toolbar, and a label at the very end would collide with the ¾ one on narrow panes).
import { formatNanos, type TraceModel } from '../../lib/spans';

const TICKS = [0, 0.25, 0.5, 0.75];

export function TimelineHeader({ model }: { model: TraceModel }) {
  const total = Number(model.endNs - model.startNs);
  return (
    <div className="trace-header" aria-hidden="true">
      <div className="trace-name-cell trace-header-name">Span</div>
      <div className="trace-bar-cell trace-ticks">
        {TICKS.map((t) => (
          <span key={t} className="trace-tick num" style={{ left: `${t * 100}%` }}>
            {formatNanos(total * t)}
          </span>
        ))}
      </div>
    </div>
  );
}
