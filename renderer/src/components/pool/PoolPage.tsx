// Every container Loom manages, grouped by the config that shaped it, with live CPU and
// memory, and the pool's actions (pre-warm for the current form's config, rotate, remove,
// prune).
import { useMemo, useState } from 'react';
import { useNow } from '../../hooks/useNow';
import { useCanRun } from '../../store/selectors';
import { prewarm, pruneContainers } from '../../store/pool-actions';
import { useApp } from '../../store/app-store';
import { Icon } from '../ui/Icon';
import { Spinner } from '../ui/Spinner';
import { HostedServers } from './HostedServers';
import { groupContainers } from './pool-groups';
import { PoolRow } from './PoolRow';
import { usePoolContainers } from './usePoolContainers';
import './Pool.css';

export function PoolPage() {
  const { containers, error, updatedAt } = usePoolContainers();
  const groups = useMemo(() => groupContainers(containers ?? []), [containers]);
  const now = useNow(1000);
  const canRun = useCanRun();
  const runtime = useApp((s) => s.runtime);
  const [count, setCount] = useState('1');
  const [busy, setBusy] = useState<'prewarm' | 'prune' | null>(null);
  const n = Number(count);
  const countValid = Number.isInteger(n) && n >= 1 && n <= 32;

  const run = (what: 'prewarm' | 'prune', action: () => Promise<void>): void => {
    setBusy(what);
    void action().finally(() => setBusy(null));
  };

  const total = containers?.length ?? 0;
  return (
    <main className="pool-page" aria-label="Container pool" data-testid="pool-page">
      <div className="pool-toolbar">
        <div className="pool-heading">
          <h1>Container pool</h1>
          <span className="faint num">
            {containers === null ? 'Loading…' : `${total} container${total === 1 ? '' : 's'} in ${groups.length} config${groups.length === 1 ? '' : 's'}`}
          </span>
          {updatedAt ? <span className="pool-live" title={`Updated ${new Date(updatedAt).toLocaleTimeString()}`}><span className="live-dot" />live</span> : null}
        </div>
        <div className="toolbar-spacer" />
        <div className="prewarm" role="group" aria-label="Pre-warm">
          <label htmlFor="prewarm-count" className="faint" title={`Start containers for the request form's ${runtime} config ahead of time`}>
            Fill the current config’s pool to
          </label>
          <input
            id="prewarm-count"
            className="input num prewarm-count"
            value={count}
            onChange={(e) => setCount(e.target.value)}
            inputMode="numeric"
            aria-invalid={!countValid}
            data-testid="prewarm-count"
          />
          <button
            type="button"
            className="btn btn-primary btn-sm"
            disabled={!countValid || !canRun || busy !== null}
            title={canRun ? 'Start containers for the request form’s config ahead of time' : 'Fix the request form first'}
            onClick={() => run('prewarm', () => prewarm(n))}
            data-testid="prewarm-button"
          >
            {busy === 'prewarm' ? <Spinner size={13} /> : <Icon name="flame" size={13} />}
            Pre-warm
          </button>
        </div>
        <button
          type="button"
          className="btn btn-sm"
          disabled={busy !== null}
          onClick={() => run('prune', pruneContainers)}
          title="Remove parked containers (kept warm by loom exec) and those of Loom processes that are gone; this window's own pool stays"
          data-testid="prune-button"
        >
          {busy === 'prune' ? <Spinner size={13} /> : <Icon name="trash" size={13} />}
          Prune
        </button>
      </div>
      {error ? (
        <div className="pool-error" role="alert">
          <Icon name="alert" size={14} />
          Could not list containers: {error}
        </div>
      ) : null}
      <div className="pool-body">
        <HostedServers now={now} />
        {containers !== null && total === 0 ? (
          <div className="empty-state">
            <Icon name="cube" size={28} />
            <strong>No pooled containers</strong>
            <span>Run a program, or pre-warm the current config to have containers waiting.</span>
          </div>
        ) : null}
        {groups.map((g) => (
          <section key={g.key} className="pool-group" aria-label={`Config ${g.configName || g.key}`} data-testid="pool-group">
            <header className="pool-group-head">
              <span className={`badge badge-outline runtime-${g.runtime}`}>{g.runtime || '?'}</span>
              {g.configName ? <strong data-testid="pool-config-name">{g.configName}</strong> : null}
              <span className="pool-config mono" title={g.config} data-testid="pool-config">
                {g.config}
              </span>
              <div className="toolbar-spacer" />
              <span className="pool-counts faint num">
                {g.counts.idle} idle · {g.counts.busy} busy{g.counts.creating ? ` · ${g.counts.creating} creating` : ''}
                {g.counts.stopped ? ` · ${g.counts.stopped} stopped` : ''}
              </span>
              <code className="pool-key faint" title="Pool key: a hash of everything that shapes the container">
                {g.key.slice(0, 16)}
              </code>
            </header>
            <table className="pool-table">
              <thead>
                <tr>
                  <th scope="col">ID</th>
                  <th scope="col">Name</th>
                  <th scope="col">Image</th>
                  <th scope="col">State</th>
                  <th scope="col">Age</th>
                  <th scope="col">Runs</th>
                  <th scope="col">CPU</th>
                  <th scope="col">Memory</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {g.containers.map((c) => (
                  <PoolRow key={c.info.id} c={c} now={now} />
                ))}
              </tbody>
            </table>
          </section>
        ))}
      </div>
    </main>
  );
}
