import { contextBridge } from 'electron';
import { createLoomPreloadApi } from './api';

const api = createLoomPreloadApi(process.argv);

contextBridge.exposeInMainWorld('loom', api);

export type LoomPreloadApi = typeof api;
