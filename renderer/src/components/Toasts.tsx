// Short confirmations and failures of actions, in the bottom corner. A polite live region,
// so screen readers hear them without losing their place.
import { dismissToast, useApp } from '../store/app-store';
import { Icon } from './ui/Icon';

export function Toasts() {
  const toasts = useApp((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          <Icon name={t.kind === 'error' ? 'alert' : 'check'} size={14} />
          <span className="toast-text">{t.text}</span>
          <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            <Icon name="x" size={12} />
          </button>
        </div>
      ))}
    </div>
  );
}
