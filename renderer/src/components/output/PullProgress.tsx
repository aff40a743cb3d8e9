// Image pull progress while it happens: overall and per layer, like `docker pull`.
import { layerFraction, pullFraction, type PullState } from '../../lib/run-progress';
import { formatBytes } from '../../lib/format';

export function PullProgress({ pull, done }: { pull: PullState; done: boolean }) {
  const overall = pullFraction(pull);
  const percent = overall === undefined ? undefined : Math.round(overall * 100);
  return (
    <section className="prep-block" aria-label="Image pull" data-testid="pull-progress">
      <div className="prep-head">
        <strong>{done ? 'Pulled' : 'Pulling'} {pull.image}</strong>
        <span className="faint">{pull.status}</span>
        <span className="prep-percent num">{percent === undefined ? '' : `${percent}%`}</span>
      </div>
      <Bar fraction={overall} label={`Pulling ${pull.image}`} />
      {!done && pull.layers.length > 0 ? (
        <ul className="layer-list">
          {pull.layers.map((layer) => {
            const f = layerFraction(layer);
            return (
              <li key={layer.id} className="layer">
                <code className="layer-id">{layer.id.slice(0, 12)}</code>
                <span className="layer-status">{layer.status}</span>
                <Bar fraction={f} label={`Layer ${layer.id}`} small />
                <span className="layer-size num faint">{layer.total > 0 ? `${formatBytes(layer.current)} / ${formatBytes(layer.total)}` : ''}</span>
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}

function Bar({ fraction, label, small }: { fraction: number | undefined; label: string; small?: boolean }) {
  const indeterminate = fraction === undefined;
  return (
    <div
      className={`bar${small ? ' bar-sm' : ''}${indeterminate ? ' bar-indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={indeterminate ? undefined : Math.round(fraction * 100)}
    >
      <div className="bar-fill" style={{ width: indeterminate ? undefined : `${fraction * 100}%` }} />
    </div>
  );
}
