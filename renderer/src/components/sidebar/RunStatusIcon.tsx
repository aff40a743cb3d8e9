// One glyph per run status, coloured, with the status in words for screen readers and tooltips.
import type { RunViewStatus } from '../../store/run-view';
import { Icon, type IconName } from '../ui/Icon';
import { Spinner } from '../ui/Spinner';

const LOOK: Record<Exclude<RunViewStatus, 'running' | 'starting'>, { icon: IconName; tone: string; label: string }> = {
  ok: { icon: 'circleCheck', tone: 'ok', label: 'Exited 0' },
  failed: { icon: 'circleX', tone: 'err', label: 'Failed (non-zero exit)' },
  compile_error: { icon: 'code', tone: 'err', label: 'Compile error (nothing ran)' },
  timed_out: { icon: 'clock', tone: 'warn', label: 'Timed out' },
  error: { icon: 'alert', tone: 'err', label: 'Loom could not run it' },
  cancelled: { icon: 'ban', tone: 'muted', label: 'Cancelled' },
  interrupted: { icon: 'ban', tone: 'warn', label: 'Interrupted (the host stopped)' },
};

export function statusLabel(status: RunViewStatus): string {
  return status === 'running' ? 'Running' : status === 'starting' ? 'Starting' : LOOK[status].label;
}

export function RunStatusIcon({ status, size = 15 }: { status: RunViewStatus; size?: number }) {
  if (status === 'running' || status === 'starting') {
    return (
      <span className="status-icon tone-accent" title={statusLabel(status)}>
        <Spinner size={size} />
        <span className="sr-only">{statusLabel(status)}</span>
      </span>
    );
  }
  const look = LOOK[status];
  return (
    <span className={`status-icon tone-${look.tone}`} title={look.label} data-status={status}>
      <Icon name={look.icon} size={size} />
      <span className="sr-only">{look.label}</span>
    </span>
  );
}
