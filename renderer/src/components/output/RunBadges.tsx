// The facts of a run at a glance, beside the panel's tabs: status, exit code, duration, cold
// or warm start, and the conditions that must not be missed (timed out, OOM, truncated).
import { useEffect, useState } from 'react';
import { formatMs } from '../../lib/format';
import { isActive, type RunView } from '../../store/run-view';
import { RunStatusIcon, statusLabel } from '../sidebar/RunStatusIcon';

export function RunBadges({ run }: { run: RunView }) {
  const r = run.response;
  const active = isActive(run.status);
  const duration = r?.durationMs !== undefined ? Number(r.durationMs) : run.summary?.durationMs;
  const created = r?.containerCreated ?? run.summary?.containerCreated;
  const exitCode = r ? (r.exitCode ?? 0) : run.summary?.exitCode;
  return (
    <div className="run-badges" data-testid="run-badges" data-status={run.status}>
      {/* ok and failed speak through the exit code badge; the rest need words. */}
      <span className="run-status">
        <RunStatusIcon status={run.status} size={14} />
        {run.status !== 'ok' && run.status !== 'failed' ? <span>{statusLabel(run.status)}</span> : null}
      </span>
      {active ? <Elapsed since={run.startedAt} /> : null}
      {exitCode !== undefined && !active ? (
        <span className={`badge ${exitCode === 0 ? 'badge-ok' : 'badge-err'} num`} data-testid="exit-code" data-exit-code={exitCode}>
          exit {exitCode}
        </span>
      ) : null}
      {duration !== undefined && !active ? (
        <span className="badge num" data-testid="duration" title="Total time, container acquisition included">
          {formatMs(duration)}
        </span>
      ) : null}
      {created !== undefined ? (
        <span
          className={`badge ${created ? 'badge-info' : 'badge-ok'}`}
          data-testid="start-badge"
          data-start={created ? 'cold' : 'warm'}
          title={created ? 'Cold start: a new container was created for this run' : 'Warm start: a pooled container was reused'}
        >
          {created ? 'cold' : 'warm'}
        </span>
      ) : null}
      {r?.compileError ? (
        <span className="badge badge-err" data-testid="compile-error-badge" title="The source did not compile: the compiler's diagnostics are in the output; the program never ran, the exit code is the compiler's">
          compile error
        </span>
      ) : null}
      {r?.compileCached ? (
        <span className="badge badge-ok" data-testid="compile-cached-badge" title="The build of this same source was reused: nothing was compiled">
          cached build
        </span>
      ) : null}
      {r?.timedOut ? (
        <span className="badge badge-warn" data-testid="timed-out-badge">
          timed out
        </span>
      ) : null}
      {r?.oomKilled ? (
        <span className="badge badge-err" data-testid="oom-badge" title="Killed for exceeding its memory limit">
          OOM killed
        </span>
      ) : null}
      {r?.truncated ? (
        <span
          className="badge badge-warn"
          data-testid="truncated-badge"
          title={`The stored response kept only the first part of ${[r.stdoutTruncated ? 'stdout' : '', r.stderrTruncated ? 'stderr' : ''].filter(Boolean).join(' and ') || 'the output'}`}
        >
          truncated
        </span>
      ) : null}
    </div>
  );
}

function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, []);
  return (
    <span className="badge num" data-testid="elapsed">
      {formatMs(Math.max(0, now - since))}
    </span>
  );
}
