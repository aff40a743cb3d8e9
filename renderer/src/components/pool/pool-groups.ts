// Pool containers grouped by the config that shaped them (pool key). Groups and the
// containers in them are ordered oldest first, so the page refreshing every 2 s does not
// reshuffle rows as containers come and go.
import type { PoolContainer } from '../../../../shared/api';
import { runtimeFromJson } from '../../../../shared/runtimes';

export interface PoolGroup {
  key: string;
  config: string;
  configName: string;
  runtime: string;
  containers: PoolContainer[];
  counts: { idle: number; busy: number; creating: number; stopped: number };
}

const STATE_KEYS = {
  CONTAINER_STATE_IDLE: 'idle',
  CONTAINER_STATE_BUSY: 'busy',
  CONTAINER_STATE_CREATING: 'creating',
  CONTAINER_STATE_STOPPED: 'stopped',
} as const;

export function stateName(state: string | undefined): string {
  return (state && STATE_KEYS[state as keyof typeof STATE_KEYS]) || 'unknown';
}

export function groupContainers(containers: readonly PoolContainer[]): PoolGroup[] {
  const groups = new Map<string, PoolGroup>();
  for (const c of containers) {
    const key = c.info.poolKey || `config:${c.config}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        key,
        config: c.config,
        configName: c.info.configName ?? '',
        runtime: runtimeFromJson(c.info.runtimeType) ?? '',
        containers: [],
        counts: { idle: 0, busy: 0, creating: 0, stopped: 0 },
      };
      groups.set(key, group);
    }
    group.containers.push(c);
    const state = stateName(c.info.state);
    if (state in group.counts) group.counts[state as keyof PoolGroup['counts']] += 1;
  }
  const list = [...groups.values()];
  for (const g of list) g.containers.sort((a, b) => Number(a.info.createdAtMs ?? 0) - Number(b.info.createdAtMs ?? 0));
  const oldest = (g: PoolGroup): number => Number(g.containers[0]?.info.createdAtMs ?? 0);
  return list.sort((a, b) => oldest(a) - oldest(b) || (a.key < b.key ? -1 : 1));
}
