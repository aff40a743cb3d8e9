// The LoomClient of browser mode: CallFrames over a WebSocket to the web host, ReplyFrames
// matched to their calls by id, EventFrames fanned out to listeners, and a reconnect with
// backoff when the host goes away. The socket comes from a factory so that the same code runs
// in the page (the browser's WebSocket) and in Node tests (the `ws` package, which can also set
// the Origin header the host insists on). No DOM or Node types here: it is checked under both.
import { LoomApiError, type CallFrame, type LoomClient, type LoomEvent, type LoomMethod } from '../../../shared/api';
import { readOutputFrame } from '../../../shared/output-frame';
import { asSerializedError, loomApiOver } from './calls';

/** What the client needs of a WebSocket: the browser's and ws's both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}

/** WebSocket.OPEN, which SocketLike cannot name statically. */
const OPEN = 1;

export interface WsClientOptions {
  /** ws://127.0.0.1:PORT/api: the page's socket is let in by its cookie; other clients add ?token=... */
  url: string;
  createSocket(url: string): SocketLike;
  /** Reconnect delays: the first, doubled after each failure up to the cap. Default 250 ms to 10 s. */
  reconnectDelayMs?: { initial: number; max: number };
}

export interface WsLoomClient extends LoomClient {
  /** Hears when the connection opens (true) or drops (false): events may have been missed in between. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
  /** Stops reconnecting, closes the socket and rejects the calls still waiting. */
  close(): void;
}

interface Waiting {
  resolve(value: unknown): void;
  reject(error: LoomApiError): void;
}

export function createWsClient(options: WsClientOptions): WsLoomClient {
  const delays = options.reconnectDelayMs ?? { initial: 250, max: 10_000 };
  // The token stays out of error messages, which end up on screen and in logs.
  const where = options.url.split('?', 1)[0] ?? options.url;
  const eventListeners = new Set<(event: LoomEvent) => void>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  /** Sent, awaiting their reply. */
  const sent = new Map<number, Waiting>();
  /** Made while not connected; sent when the socket opens. */
  let queued: { frame: string; id: number; waiting: Waiting }[] = [];
  let socket: SocketLike | null = null;
  let connected = false;
  let closed = false;
  let nextId = 1;
  let delay = delays.initial;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  function connect(): void {
    if (closed || socket) return;
    clearTimeout(retryTimer);
    retryTimer = undefined;
    let opened: SocketLike;
    try {
      opened = options.createSocket(options.url);
    } catch (err) {
      failQueued(`cannot connect to the Loom host at ${where}: ${String(err)}`);
      scheduleReconnect();
      return;
    }
    socket = opened;
    opened.addEventListener('open', () => {
      if (socket !== opened) return;
      connected = true;
      delay = delays.initial;
      const flushing = queued;
      queued = [];
      for (const q of flushing) send(q.id, q.frame, q.waiting);
      notifyConnection(true);
    });
    opened.addEventListener('message', (event) => {
      if (socket !== opened) return;
      if (typeof event.data === 'string') receive(event.data);
      else {
        // A binary frame is a run's output, sent to a socket that named OUTPUT_FRAME_PROTOCOL.
        const bytes = bytesOf(event.data);
        const output = bytes && readOutputFrame(bytes);
        if (output) deliver({ type: 'run.output', ...output });
      }
    });
    opened.addEventListener('close', (event) => {
      if (socket !== opened) return;
      socket = null;
      const wasConnected = connected;
      connected = false;
      // A sent call may or may not have run (startRun is not idempotent): fail it, never resend.
      const lost = [...sent.values()];
      sent.clear();
      const why = event.reason ? ` (${event.reason})` : '';
      for (const w of lost) w.reject(connectionError('ConnectionLostError', `the connection to the Loom host at ${where} closed before it answered${why}`));
      if (!wasConnected) failQueued(`cannot connect to the Loom host at ${where}: is \`loom ui\` still running? After a restart, open the new address it printed`);
      if (wasConnected) notifyConnection(false);
      scheduleReconnect();
    });
    // An error is always followed by a close, which does the work.
    opened.addEventListener('error', () => undefined);
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, delay);
    delay = Math.min(delay * 2, delays.max);
  }

  function send(id: number, frame: string, waiting: Waiting): void {
    if (!socket || !connected || socket.readyState !== OPEN) {
      waiting.reject(connectionError('ConnectionLostError', `not connected to the Loom host at ${where}`));
      return;
    }
    sent.set(id, waiting);
    try {
      socket.send(frame);
    } catch (err) {
      sent.delete(id);
      waiting.reject(connectionError('ConnectionLostError', `could not send to the Loom host at ${where}: ${String(err)}`));
    }
  }

  function receive(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    const f = frame as { id?: unknown; result?: unknown; error?: unknown; event?: LoomEvent };
    if (f.event !== undefined) return deliver(f.event);
    if (typeof f.id !== 'number') return;
    const waiting = sent.get(f.id);
    if (!waiting) return;
    sent.delete(f.id);
    if (f.error !== undefined) waiting.reject(new LoomApiError(asSerializedError(f.error)));
    else waiting.resolve(f.result);
  }

  function deliver(event: LoomEvent): void {
    for (const listener of [...eventListeners]) {
      try {
        listener(event);
      } catch (err) {
        // One broken listener must not starve the others (or the replies after it).
        console.error('Loom event listener failed:', err);
      }
    }
  }

  function failQueued(message: string): void {
    const failing = queued;
    queued = [];
    for (const q of failing) q.waiting.reject(connectionError('ConnectionError', message));
  }

  function notifyConnection(state: boolean): void {
    for (const listener of [...connectionListeners]) listener(state);
  }

  function call(method: LoomMethod, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (closed) return reject(connectionError('ClosedError', 'this Loom client was closed'));
      const id = nextId++;
      const frame = JSON.stringify({ id, method, args } satisfies CallFrame);
      const waiting = { resolve, reject };
      if (connected) return send(id, frame, waiting);
      queued.push({ frame, id, waiting });
      // A call while disconnected does not wait out the backoff: the user is acting now.
      connect();
    });
  }

  connect();

  return {
    ...loomApiOver(call),
    onEvent(listener) {
      eventListeners.add(listener);
      return () => void eventListeners.delete(listener);
    },
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => void connectionListeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      const current = socket;
      socket = null;
      connected = false;
      current?.close(1000, 'client closed');
      for (const w of sent.values()) w.reject(connectionError('ClosedError', 'this Loom client was closed'));
      sent.clear();
      for (const q of queued) q.waiting.reject(connectionError('ClosedError', 'this Loom client was closed'));
      queued = [];
    },
  };
}

/** A binary message's bytes: an ArrayBuffer in the page (binaryType 'arraybuffer'), a Buffer from ws in Node. */
function bytesOf(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

function connectionError(name: string, message: string): LoomApiError {
  return new LoomApiError({ name, message });
}
