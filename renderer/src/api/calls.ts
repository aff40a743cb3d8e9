// The LoomApi calls on top of one generic `call`, written out one per method so that a call
// added to LoomApi is a type error here until both clients carry it.
import { LoomApiError, type LoomApi, type LoomMethod, type SerializedError } from '../../../shared/api';
import type { CallOutcome } from '../../../electron/main/api/protocol';

/** Sends one call; resolves with its result or rejects with a LoomApiError. */
export type CallFn = (method: LoomMethod, args: unknown[]) => Promise<unknown>;

export function loomApiOver(call: CallFn): LoomApi {
  // The transport cannot check result types at run time; the backend's signature is the promise.
  const typed = <M extends LoomMethod>(method: M, args: Parameters<LoomApi[M]>) => call(method, args) as ReturnType<LoomApi[M]>;
  return {
    engineStatus: () => typed('engineStatus', []),
    startRun: (runId, request) => typed('startRun', [runId, request]),
    cancelRun: (runId) => typed('cancelRun', [runId]),
    listContainers: () => typed('listContainers', []),
    prewarm: (request, count) => typed('prewarm', [request, count]),
    removeContainer: (id) => typed('removeContainer', [id]),
    rotateContainer: (id) => typed('rotateContainer', [id]),
    pruneContainers: () => typed('pruneContainers', []),
    listRuns: () => typed('listRuns', []),
    getRun: (id) => typed('getRun', [id]),
    deleteRun: (id) => typed('deleteRun', [id]),
    listExamples: () => typed('listExamples', []),
    listTraces: (query) => typed('listTraces', [query]),
    getTrace: (traceId) => typed('getTrace', [traceId]),
    getTraceHead: (traceId, limit) => typed('getTraceHead', [traceId, limit]),
    deleteTrace: (traceId) => typed('deleteTrace', [traceId]),
    importTraces: (text) => typed('importTraces', [text]),
    exportTrace: (traceId) => typed('exportTrace', [traceId]),
    traceReceiverStatus: () => typed('traceReceiverStatus', []),
    traceCollector: () => typed('traceCollector', []),
    sendTraceToCollector: (traceId) => typed('sendTraceToCollector', [traceId]),
    createSession: (request) => typed('createSession', [request]),
    listSessions: () => typed('listSessions', []),
    runCell: (cellId, request) => typed('runCell', [cellId, request]),
    interruptSession: (sessionId) => typed('interruptSession', [sessionId]),
    restartSession: (sessionId) => typed('restartSession', [sessionId]),
    closeSession: (sessionId) => typed('closeSession', [sessionId]),
    listSessionFiles: (sessionId, path) => typed('listSessionFiles', [sessionId, path]),
    readSessionFile: (sessionId, path) => typed('readSessionFile', [sessionId, path]),
    writeSessionFile: (sessionId, path, data) => typed('writeSessionFile', [sessionId, path, data]),
    deleteSessionFile: (sessionId, path) => typed('deleteSessionFile', [sessionId, path]),
    listHostedServers: () => typed('listHostedServers', []),
    addHostedServer: (config) => typed('addHostedServer', [config]),
    removeHostedServer: (name) => typed('removeHostedServer', [name]),
    listHostedTools: (server) => typed('listHostedTools', [server]),
    callHostedTool: (server, tool, args) => typed('callHostedTool', [server, tool, args]),
  };
}

/** The result of an outcome, or its error rebuilt as a LoomApiError (name and fields intact). */
export function unwrapOutcome(outcome: CallOutcome): unknown {
  if (outcome.error !== undefined) throw new LoomApiError(asSerializedError(outcome.error));
  return outcome.result;
}

/** Whatever arrived as an error, in the shape LoomApiError takes (a malformed one still reads sensibly). */
export function asSerializedError(value: unknown): SerializedError {
  if (typeof value === 'object' && value !== null && typeof (value as SerializedError).name === 'string' && typeof (value as SerializedError).message === 'string') {
    return value as SerializedError;
  }
  return { name: 'Error', message: typeof value === 'string' ? value : 'the Loom host answered with a malformed error' };
}
