// The one place a call that came over a transport (IPC or WebSocket) reaches the backend. The
// method name and arguments come from the page, so they are untrusted: only the LoomApi calls
// in LOOM_METHODS can be reached (not onEvent, close, constructor or anything on the prototype
// chain), and whatever happens comes back as a CallOutcome rather than an exception.
import { LOOM_METHODS, serializeError, type LoomApi, type LoomMethod } from '../../../shared/api';
import { ValidationError } from '../engine/errors';
import type { CallOutcome } from './protocol';

/**
 * How many arguments each call takes. No LoomApi call has optional parameters, so more than this
 * is a client bug worth reporting rather than silently ignoring.
 */
const ARITY = {
  engineStatus: 0,
  startRun: 2,
  cancelRun: 1,
  listContainers: 0,
  prewarm: 2,
  removeContainer: 1,
  rotateContainer: 1,
  pruneContainers: 0,
  listRuns: 0,
  getRun: 1,
  deleteRun: 1,
  listExamples: 0,
  listTraces: 1,
  getTrace: 1,
  getTraceHead: 2,
  deleteTrace: 1,
  importTraces: 1,
  exportTrace: 1,
  traceReceiverStatus: 0,
  traceCollector: 0,
  sendTraceToCollector: 1,
  createSession: 1,
  listSessions: 0,
  runCell: 2,
  interruptSession: 1,
  restartSession: 1,
  closeSession: 1,
  listSessionFiles: 2,
  readSessionFile: 2,
  writeSessionFile: 3,
  deleteSessionFile: 2,
  listHostedServers: 0,
  addHostedServer: 1,
  removeHostedServer: 1,
  listHostedTools: 1,
  callHostedTool: 3,
} as const satisfies Record<LoomMethod, number>;

export function isLoomMethod(method: unknown): method is LoomMethod {
  return typeof method === 'string' && (LOOM_METHODS as readonly string[]).includes(method);
}

export async function dispatch(backend: LoomApi, method: unknown, args: unknown): Promise<CallOutcome> {
  if (!isLoomMethod(method)) {
    const shown = typeof method === 'string' ? `'${method.slice(0, 100)}'` : `a ${typeof method}`;
    return { error: serializeError(new ValidationError('method', `unknown method ${shown}; expected one of ${LOOM_METHODS.join(', ')}`)) };
  }
  if (!Array.isArray(args)) {
    return { error: serializeError(new ValidationError('args', `the arguments of ${method} must be an array`)) };
  }
  if (args.length > ARITY[method]) {
    return { error: serializeError(new ValidationError('args', `${method} takes ${ARITY[method]} argument(s), got ${args.length}`)) };
  }
  try {
    // The arguments are checked by the backend itself (it validates requests for the CLI too).
    const call = backend[method] as (...callArgs: unknown[]) => Promise<unknown>;
    return { result: await call.apply(backend, args) };
  } catch (err) {
    return { error: serializeError(err) };
  }
}
