import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { LoomEvent } from '../../shared/api';
import { CALL_CHANNEL, EVENT_CHANNEL, type CallOutcome } from '../main/api/protocol';
import { createLoomPreloadApi } from './api';

// The page gets named functions only: never ipcRenderer itself, nor the IPC event (whose
// `sender` would let it send on any channel).
const api = createLoomPreloadApi(process.argv, {
  call: (method, args) => ipcRenderer.invoke(CALL_CHANNEL, method, args) as Promise<CallOutcome>,
  subscribe(listener) {
    const forward = (_event: IpcRendererEvent, event: LoomEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL, forward);
  },
});

contextBridge.exposeInMainWorld('loom', api);

export type LoomPreloadApi = typeof api;
