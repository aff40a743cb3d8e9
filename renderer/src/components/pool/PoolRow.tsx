// One pooled container: identity, state, age, use, live CPU and memory, actions.
import { memo } from 'react';
import type { PoolContainer } from '../../../../shared/api';
import { formatAge, formatBytes } from '../../lib/format';
import { removeContainer, rotateContainer } from '../../store/pool-actions';
import { Icon } from '../ui/Icon';
import { stateName } from './pool-groups';
import { UsageBar } from './UsageBar';

export const PoolRow = memo(function PoolRow({ c, now }: { c: PoolContainer; now: number }) {
  const info = c.info;
  const id = info.id ?? '';
  const short = id.slice(0, 12);
  const state = stateName(info.state);
  const created = Number(info.createdAtMs ?? 0);
  const memFraction = c.memoryBytes !== undefined && c.memoryLimitBytes ? c.memoryBytes / c.memoryLimitBytes : undefined;
  return (
    <tr className={`pool-row state-${state}`} data-testid="pool-row" data-container-id={id} data-state={state}>
      <td>
        <code className="pool-id" title={id}>
          {short}
        </code>
      </td>
      <td className="pool-name" title={info.name}>
        {info.name}
        {c.session ? (
          <span
            className="badge badge-outline"
            data-testid="session-badge"
            title={`Session ${c.session.id ?? ''} of ${c.session.owner ?? ''}: removed after ${c.session.idleTtlSeconds ?? 0} s idle`}
          >
            session · {c.session.owner} · idle {formatAge(Number(c.session.lastUsedAtMs ?? now), now)} of {Math.round((c.session.idleTtlSeconds ?? 0) / 60)} min
          </span>
        ) : null}
        {c.external && !c.session ? (
          <span className="badge badge-outline" data-testid="external-badge" title={`Owned by another Loom process (pid ${info.ownerPid ?? '?'}${info.ownerAlive === false ? ', gone' : ''})`}>
            external{info.ownerAlive === false ? ' · orphan' : ''}
          </span>
        ) : null}
      </td>
      <td className="pool-image mono" title={info.image}>
        {info.image}
      </td>
      <td>
        <span className={`state-pill state-${state}`}>
          <span className="state-dot" />
          {state}
        </span>
      </td>
      <td className="num">{created > 0 ? formatAge(created, now) : '—'}</td>
      <td className="num" data-testid="pool-executions">
        {info.executions ?? 0}
      </td>
      <td className="pool-usage">
        <UsageBar fraction={c.cpuPercent !== undefined ? c.cpuPercent / 100 : undefined} label="CPU" />
        <span className="num">{c.cpuPercent !== undefined ? `${c.cpuPercent.toFixed(1)}%` : '—'}</span>
      </td>
      <td className="pool-usage">
        <UsageBar fraction={memFraction} label="Memory" />
        <span className="num" title={c.memoryLimitBytes ? `limit ${formatBytes(c.memoryLimitBytes)}` : undefined}>
          {c.memoryBytes !== undefined ? formatBytes(c.memoryBytes) : '—'}
          {c.memoryLimitBytes ? <span className="faint"> / {formatBytes(c.memoryLimitBytes)}</span> : null}
        </span>
      </td>
      <td className="pool-actions">
        <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label={`Rotate ${short}`} title="Rotate: replace with a fresh container" onClick={() => void rotateContainer(id)} data-testid="pool-rotate">
          <Icon name="refresh" size={14} />
        </button>
        <button type="button" className="btn btn-ghost btn-icon btn-sm btn-danger" aria-label={`Remove ${short}`} title="Remove" onClick={() => void removeContainer(id)} data-testid="pool-remove">
          <Icon name="trash" size={14} />
        </button>
      </td>
    </tr>
  );
});
