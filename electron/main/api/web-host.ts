// The browser-mode transport: an HTTP server on 127.0.0.1 that serves the built renderer and a
// WebSocket endpoint (/api) carrying CallFrame -> ReplyFrame and EventFrame pushes, in front of
// the same backend the Electron window uses. Who may connect is decided in host-guard.ts: the
// token in the printed address, swapped at the first request for a session cookie.
import { randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { OUTPUT_FRAME_PROTOCOL, serializeError, type EventFrame, type LoomEvent, type ReplyFrame } from '../../../shared/api';
import { outputBytesOf } from '../app/proto-json';
import type { LoomBackend } from './backend';
import { dispatch } from './dispatch';
import { Outbox, type OutgoingEvent, type OutputChunk } from './outbox';
import { exchangePage, refusedPage } from './access-pages';
import { checkAccess, checkUpgrade, isAllowedHost, requestUrl, sessionCookie, sessionOf, type HostSecrets } from './host-guard';
import { securityHeaders, sendHtml, sendText, serveStatic } from './static-files';

export const API_PATH = '/api';

export interface WebHostLimits {
  /** Largest frame a client may send, in bytes (a bigger one closes the socket with 1009). */
  maxFrameBytes: number;
  /** Calls a connection may have in flight; more are answered with TooManyCallsError at once. */
  maxCallsPerConnection: number;
  /** Past this many unsent bytes, events wait for the socket in its outbox (outbox.ts). */
  eventBufferBytes: number;
  /**
   * A run's output held per waiting socket at most: older output is left out and counted (a
   * 'run.skipped' event). Far more than the window's pane keeps, so what it shows is the same.
   */
  heldOutputBytes: number;
  /**
   * Past this many unsent bytes the client is not reading at all; it is disconnected rather than
   * have its replies dropped or the host run out of memory.
   */
  stalledBufferBytes: number;
  maxConnections: number;
}

export const DEFAULT_LIMITS: WebHostLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  maxCallsPerConnection: 64,
  eventBufferBytes: 4 * 1024 * 1024,
  heldOutputBytes: 8 * 1024 * 1024,
  stalledBufferBytes: 64 * 1024 * 1024,
  maxConnections: 32,
};

export interface WebHostOptions {
  backend: LoomBackend;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The built renderer (out/renderer) to serve; without it only /api answers. */
  rendererDir?: string;
  /** The access token; default a fresh random one. */
  token?: string;
  limits?: Partial<WebHostLimits>;
}

export interface WebHost {
  /** The page's address, token included: what the user opens (the page then drops the token). */
  url: string;
  port: number;
  /** Where the server listens: always 127.0.0.1. */
  address: AddressInfo;
  token: string;
  /** Disconnects every client and stops listening. The backend is the caller's to close. */
  close(): Promise<void>;
}

/** The most output one frame carries: the page parses a frame in one task, which must stay short. */
const MAX_FRAME_OUTPUT_BYTES = 256 * 1024;

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { backend, rendererDir } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const token = options.token ?? randomBytes(32).toString('hex');
  if (token.length < 32) throw new Error('the web host token must be at least 32 characters');

  // The port is known once listening; no request arrives before.
  const secrets: HostSecrets = { port: 0, token, session: sessionOf(token) };
  const server = createServer((req, res) => {
    const headers = securityHeaders(secrets.port);
    if (!isAllowedHost(req.headers.host, secrets.port)) return sendText(res, 403, 'Host not allowed', headers);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed', headers, { Allow: 'GET, HEAD' });
    const url = requestUrl(req);
    if (!url) return sendText(res, 400, 'Bad request', headers);
    const access = checkAccess(req, url, secrets);
    if (!access.ok) return sendHtml(res, 403, refusedPage(secrets.port, access.problem), headers);
    // An address with the token never gets the app: only the cookie and a hop to the same address without it.
    if (access.by === 'token') return sendHtml(res, 200, exchangePage(req.headers.host ?? '', url), headers, { 'Set-Cookie': sessionCookie(secrets) });
    if (url.pathname === API_PATH) return sendText(res, 426, 'WebSocket only', headers, { Upgrade: 'websocket' });
    if (!rendererDir) return sendText(res, 404, 'Not found', headers);
    serveStatic(rendererDir, req, res, headers).catch(() => res.destroy());
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    clientTracking: false,
    // A client that names it gets output as binary frames; others get JSON, as before.
    handleProtocols: (protocols) => (protocols.has(OUTPUT_FRAME_PROTOCOL) ? OUTPUT_FRAME_PROTOCOL : false),
  });
  const sockets = new Map<WebSocket, Outbox>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const verdict = checkUpgrade(req, secrets, API_PATH);
    if (!verdict.ok) return refuseUpgrade(socket, verdict.status, verdict.reason);
    if (sockets.size >= limits.maxConnections) return refuseUpgrade(socket, 503, 'too many connections');
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws));
  });

  function serveConnection(ws: WebSocket): void {
    const limitsOfOutbox = {
      eventBufferBytes: limits.eventBufferBytes,
      heldOutputBytes: limits.heldOutputBytes,
      maxFrameOutputBytes: MAX_FRAME_OUTPUT_BYTES,
      binaryOutput: ws.protocol === OUTPUT_FRAME_PROTOCOL,
    };
    sockets.set(
      ws,
      new Outbox(
        {
          get open() {
            return ws.readyState === WebSocket.OPEN;
          },
          get buffered() {
            return ws.bufferedAmount;
          },
          send: (data, sent) => ws.send(data, () => sent()),
        },
        limitsOfOutbox,
      ),
    );
    let inFlight = 0;
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      const call = parseCall(rawText(data));
      if (!call) return ws.close(1008, 'expected {"id": number, "method": string, "args": [...]}');
      if (inFlight >= limits.maxCallsPerConnection) {
        return reply(ws, {
          id: call.id,
          error: { name: 'TooManyCallsError', message: `more than ${limits.maxCallsPerConnection} calls in flight on one connection`, limit: limits.maxCallsPerConnection },
        });
      }
      inFlight++;
      void dispatch(backend, call.method, call.args).then((outcome) => {
        inFlight--;
        reply(ws, { id: call.id, ...outcome });
      });
    });
  }

  function reply(ws: WebSocket, frame: ReplyFrame): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (err) {
      // A result JSON cannot carry (a bigint, a cycle) is a backend bug; the caller still gets an answer.
      text = JSON.stringify({ id: frame.id, error: serializeError(new Error(`the result of the call could not be encoded: ${String(err)}`)) });
    }
    ws.send(text);
    // A close frame would queue behind the backlog it cannot drain: cut the connection instead.
    if (ws.bufferedAmount > limits.stalledBufferBytes) ws.terminate();
  }

  const unsubscribe = backend.onEvent((event) => {
    const outgoing = outgoingEvent(event);
    for (const [ws, outbox] of sockets) {
      outbox.push(outgoing);
      // Output is capped in the outbox; other events pile up only if the client reads nothing.
      if (outbox.heldBytes + ws.bufferedAmount > limits.stalledBufferBytes) ws.terminate();
    }
  });

  try {
    await listen(server, options.port ?? 0);
  } catch (err) {
    unsubscribe();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const port = address.port;
  secrets.port = port;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    address,
    token,
    async close() {
      unsubscribe();
      await closeSockets(sockets);
      wss.close();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}

/** The event as the outboxes may need it, each form made once and only when asked for. */
function outgoingEvent(event: LoomEvent): OutgoingEvent {
  let text: string | undefined;
  let output: OutputChunk | undefined | null = null;
  return {
    event,
    text: () => (text ??= JSON.stringify({ event } satisfies EventFrame)),
    output: () => (output === null ? (output = outputOf(event)) : output),
  };
}

/** A run's output chunk as bytes (the service's own, else decoded from the JSON's base64), or undefined for any other event. */
function outputOf(event: LoomEvent): OutputChunk | undefined {
  if (event.type !== 'run.event') return undefined;
  // Named, not read: the service's output JSON makes its base64 only when it is read.
  const stream = 'stdout' in event.event ? 'stdout' : 'stderr' in event.event ? 'stderr' : undefined;
  if (stream === undefined) return undefined;
  const raw = outputBytesOf(event.event);
  if (raw) return { runId: event.runId, stream, bytes: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) };
  const base64 = event.event[stream];
  return base64 === undefined ? undefined : { runId: event.runId, stream, bytes: Buffer.from(base64, 'base64') };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    // 127.0.0.1 only: never reachable from another machine, whatever the firewall says.
    server.listen({ port, host: '127.0.0.1' }, () => {
      server.off('error', fail);
      done();
    });
  });
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
}

interface ParsedCall {
  id: number;
  method: unknown;
  args: unknown;
}

/** A frame with a usable id, else null. The method and args are checked by dispatch(), which can answer. */
function parseCall(text: string): ParsedCall | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { id, method, args } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return null;
  return { id, method, args };
}

/** Closes politely, then cuts whoever has not finished the closing handshake within a second. */
async function closeSockets(sockets: Map<WebSocket, Outbox>): Promise<void> {
  const closing = [...sockets.keys()].map(
    (ws) =>
      new Promise<void>((done) => {
        if (ws.readyState === WebSocket.CLOSED) return done();
        const timer = setTimeout(() => ws.terminate(), 1000);
        ws.once('close', () => {
          clearTimeout(timer);
          done();
        });
        ws.close(1001, 'the Loom host is shutting down');
      }),
  );
  await Promise.all(closing);
}
