// The Electron path without Electron (there is no Electron binary here): the preload's API,
// a transport that copies values the way IPC and contextBridge do (structured clone), the
// real dispatch, and the renderer's bridge client that rebuilds errors. Only ipcMain/ipcRenderer
// themselves are left out; their sender check is tested in trusted-sender.test.ts.
import { describe, expect, it } from 'vitest';
import { LOOM_METHODS, LoomApiError, type LoomEvent } from '../../../shared/api';
import { createLoomPreloadApi, VERSION_ARG_PREFIX } from '../../preload/api';
import { bridgeClient } from '../../../renderer/src/api/bridge-client';
import { dispatch } from './dispatch';
import { createTestBackend, TEST_STATUS } from './test-backend';

function electronLike() {
  const backend = createTestBackend();
  const bridge = createLoomPreloadApi(['electron', `${VERSION_ARG_PREFIX}1.2.3`], {
    call: async (method, args) => structuredClone(await dispatch(backend, method, structuredClone(args))),
    subscribe: (listener) => backend.onEvent((e) => listener(structuredClone(e))),
  });
  return { backend, bridge, client: bridgeClient(bridge) };
}

describe('the IPC path: preload API -> dispatch -> bridge client', () => {
  it('the preload exposes the version, one function per call and onEvent, frozen', () => {
    const { bridge } = electronLike();
    expect(bridge.version).toBe('1.2.3');
    // Every call of the API (shared/api.ts LOOM_METHODS), each a function, and nothing else.
    expect(Object.keys(bridge).sort()).toEqual(['version', 'onEvent', ...LOOM_METHODS].sort());
    for (const method of LOOM_METHODS) expect(typeof bridge[method], method).toBe('function');
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('the preload answers with the envelope; the client unwraps results', async () => {
    const { bridge, client, backend } = electronLike();
    expect(await bridge.engineStatus()).toEqual({ result: TEST_STATUS });
    expect(await client.engineStatus()).toEqual(TEST_STATUS);
    expect(await client.prewarm({ command: ['true'] }, 2)).toBeUndefined();
    expect(backend.calls.at(-1)).toEqual({ method: 'prewarm', args: [{ command: ['true'] }, 2] });
  });

  it('a ValidationError becomes a LoomApiError with its name, message and fields', async () => {
    const { client } = electronLike();
    const err = await client.startRun('run-1', { command: ['true'], config: { resourceLimits: { memoryMb: '-1' } } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LoomApiError);
    expect(err).toMatchObject({
      name: 'ValidationError',
      message: 'config.resource_limits.memory_mb: must be positive',
      fields: { field: 'config.resource_limits.memory_mb', problem: 'must be positive' },
    });
  });

  it('a failure of the IPC itself becomes an IpcError', async () => {
    const bridge = createLoomPreloadApi([], {
      call: () => Promise.reject(new Error("No handler registered for 'loom:call'")),
      subscribe: () => () => undefined,
    });
    expect(bridge.version).toBeNull();
    await expect(bridgeClient(bridge).listRuns()).rejects.toMatchObject({ name: 'IpcError', message: "No handler registered for 'loom:call'" });
  });

  it('events reach the listener until it unsubscribes', () => {
    const { backend, client } = electronLike();
    const seen: LoomEvent[] = [];
    const off = client.onEvent((e) => seen.push(e));
    backend.emit({ type: 'pool.changed' });
    off();
    backend.emit({ type: 'pool.changed' });
    expect(seen).toEqual([{ type: 'pool.changed' }]);
    expect(backend.listenerCount()).toBe(0);
  });
});
