// What both transports agree on besides shared/api.ts: the IPC channel names and the envelope a
// call comes back in. Free of Node and Electron imports because the preload bundle and the
// renderer's type check both read it.
import type { SerializedError } from '../../../shared/api';

/**
 * The IPC channels, as a closed union so that a typo is a type error. One channel carries every
 * call (the method name travels inside, and dispatch() checks it against LOOM_METHODS) so that
 * the main process has a single door to guard.
 */
export type LoomChannel = 'loom:call' | 'loom:event';

export const CALL_CHANNEL = 'loom:call' satisfies LoomChannel;
export const EVENT_CHANNEL = 'loom:event' satisfies LoomChannel;

/**
 * A call's outcome as it crosses a transport: a ReplyFrame without its id. Errors travel as data
 * rather than as rejections because neither Electron's invoke() nor contextBridge keeps an
 * error's name and fields; the client rebuilds them as a LoomApiError.
 */
export type CallOutcome<T = unknown> = { result: T; error?: undefined } | { error: SerializedError; result?: undefined };
