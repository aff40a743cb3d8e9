// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import type { PoolContainer } from '../../../../shared/api';
import { FakeClient } from '../../test/fake-client';
import { initialState, useApp } from '../../store/app-store';
import { setClient } from '../../store/client';
import { PoolPage } from './PoolPage';

let client: FakeClient;
const container = (id: string, poolKey: string, state: string, extra: Partial<PoolContainer> = {}): PoolContainer => ({
  info: { id, name: `loom-${id}`, image: 'python:3.11-slim', poolKey, state: state as PoolContainer['info']['state'], createdAtMs: Date.now() - 90_000, executions: 3, runtimeType: 'RUNTIME_TYPE_PYTHON' },
  config: `python:3.11-slim · ${poolKey}`,
  external: false,
  ...extra,
});

beforeEach(() => {
  useApp.setState(initialState(), true);
  client = new FakeClient();
  client.containers = [
    container('c1', 'k1', 'CONTAINER_STATE_IDLE', { cpuPercent: 12.5, memoryBytes: 64 * 2 ** 20, memoryLimitBytes: 512 * 2 ** 20 }),
    container('c2', 'k1', 'CONTAINER_STATE_BUSY'),
    container('c3', 'k2', 'CONTAINER_STATE_CREATING', { external: true }),
  ];
  setClient(client);
});
afterEach(() => {
  cleanup();
  setClient(null);
});

const settle = (): Promise<void> => act(async () => new Promise((resolve) => setTimeout(resolve, 10)));

describe('PoolPage', () => {
  it('groups containers by config with state, age, runs, live CPU and memory', async () => {
    render(<PoolPage />);
    await settle();
    const groups = screen.getAllByTestId('pool-group');
    expect(groups).toHaveLength(2);
    expect(within(groups[0] as HTMLElement).getAllByTestId('pool-row')).toHaveLength(2);
    const row = screen.getAllByTestId('pool-row').find((r) => r.getAttribute('data-container-id') === 'c1') as HTMLElement;
    expect(row.getAttribute('data-state')).toBe('idle');
    expect(row.textContent).toContain('1m');
    expect(row.textContent).toContain('12.5%');
    expect(row.textContent).toContain('64.0 MB');
    expect(within(row).getAllByRole('meter')).toHaveLength(2);
    expect(screen.getAllByTestId('external-badge')).toHaveLength(1);
  });

  it('removes a container and refreshes', async () => {
    render(<PoolPage />);
    await settle();
    client.containers = client.containers.filter((c) => c.info.id !== 'c2');
    const row = screen.getAllByTestId('pool-row').find((r) => r.getAttribute('data-container-id') === 'c2') as HTMLElement;
    fireEvent.click(within(row).getByTestId('pool-remove'));
    await settle();
    expect(client.removed).toEqual(['c2']);
    expect(screen.getAllByTestId('pool-row')).toHaveLength(2);
  });

  it('pre-warms the request form’s config', async () => {
    useApp.setState((s) => ({ form: { ...s.form, memoryMb: '256' } }));
    render(<PoolPage />);
    await settle();
    fireEvent.change(screen.getByTestId('prewarm-count'), { target: { value: '3' } });
    fireEvent.click(screen.getByTestId('prewarm-button'));
    await settle();
    expect(client.prewarmed).toHaveLength(1);
    expect(client.prewarmed[0]?.count).toBe(3);
    expect(client.prewarmed[0]?.request.config?.resourceLimits?.memoryMb).toBe('256');
  });
});
