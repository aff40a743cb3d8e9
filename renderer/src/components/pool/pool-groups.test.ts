import { describe, expect, it } from 'vitest';
import type { PoolContainer } from '../../../../shared/api';
import { groupContainers, stateName } from './pool-groups';

const c = (id: string, poolKey: string, state: string, createdAtMs: number): PoolContainer => ({
  info: { id, poolKey, state: state as PoolContainer['info']['state'], createdAtMs, runtimeType: 'RUNTIME_TYPE_PYTHON' },
  config: `cfg ${poolKey}`,
  external: false,
});

describe('groupContainers', () => {
  it('groups by pool key, oldest first', () => {
    const groups = groupContainers([
      c('a', 'k1', 'CONTAINER_STATE_IDLE', 3),
      c('b', 'k2', 'CONTAINER_STATE_BUSY', 1),
      c('c', 'k2', 'CONTAINER_STATE_IDLE', 0),
    ]);
    expect(groups.map((g) => g.key)).toEqual(['k2', 'k1']);
    expect(groups[0]?.containers.map((x) => x.info.id)).toEqual(['c', 'b']);
    expect(groups[0]?.counts).toEqual({ idle: 1, busy: 1, creating: 0, stopped: 0 });
    expect(groups[0]?.runtime).toBe('python');
  });

  it('names states', () => {
    expect(stateName('CONTAINER_STATE_CREATING')).toBe('creating');
    expect(stateName(undefined)).toBe('unknown');
  });
});
