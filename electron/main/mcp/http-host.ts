// Streamable HTTP for MCP, on 127.0.0.1 only. The same guards as the web host (see
// api/host-guard.ts): the Host header against DNS rebinding, the Origin header against other
// sites' pages (absent for non-browser clients, which is allowed), and a bearer token printed at
// start against everything else on the machine. One MCP server per client session, made on its
// initialize request; a session idle past idleTimeoutMs, or deleted by its client, is closed.
import type { Server as McpProtocolServer } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { allowedOrigins, isAllowedHost, requestUrl, tokensEqual } from '../api/host-guard';

export const MCP_PATH = '/mcp';

/** Where a hosted server is served. */
export function hostedPath(server: string): string {
  return `${MCP_PATH}/servers/${server}`;
}
/** A JSON-RPC message (or batch) larger than this is refused: execute_code's inputs fit well below. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface McpSessionHandle {
  server: McpProtocolServer;
  /** Releases what the session holds (containers, ...); called once, when the session ends. */
  dispose?(): Promise<void>;
}

/**
 * Makes the server for a new client session. `end` closes the session from the server's side
 * (an idle hosted session, say).
 */
export type OpenSession = (sessionId: string, end: () => void) => McpSessionHandle | Promise<McpSessionHandle>;

export interface McpHttpHostOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default: 32 random bytes, hex. */
  token?: string;
  /** The endpoints by path (MCP_PATH for Loom's own tools, hostedPath(name) for hosted servers). */
  routes: Map<string, OpenSession>;
  /** Sessions with no request for this long are closed (hosted ones also by their own TTL). Default 30 minutes; 0: never. */
  idleTimeoutMs?: number;
  onError?: (err: unknown) => void;
}

export interface McpHttpHost {
  /** Loom's own endpoint (MCP_PATH). */
  url: string;
  /** The address without a path: endpoints are origin + their path. */
  origin: string;
  port: number;
  token: string;
  /** Open client sessions. */
  sessions(): string[];
  /** Closes every session (their dispose runs) and the listener. */
  close(): Promise<void>;
}

interface Session {
  path: string;
  transport: StreamableHTTPServerTransport;
  handle: McpSessionHandle;
  idle?: NodeJS.Timeout;
  closed: Promise<void>;
}

export async function startMcpHttpHost(options: McpHttpHostOptions): Promise<McpHttpHost> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const idleTimeoutMs = options.idleTimeoutMs ?? 30 * 60_000;
  const onError = options.onError ?? (() => undefined);
  const sessions = new Map<string, Session>();
  let port = options.port;

  const endSession = (id: string): Promise<void> => {
    const session = sessions.get(id);
    if (!session) return Promise.resolve();
    sessions.delete(id);
    clearTimeout(session.idle);
    session.closed = (async () => {
      await session.transport.close().catch(onError);
      await session.handle.dispose?.().catch(onError);
    })();
    return session.closed;
  };

  const touch = (id: string, session: Session): void => {
    clearTimeout(session.idle);
    if (idleTimeoutMs > 0) session.idle = setTimeout(() => void endSession(id), idleTimeoutMs).unref();
  };

  const refuse = (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req);
    const open = url && options.routes.get(url.pathname);
    if (!url || !open) return refuse(res, 404, `no such endpoint: MCP is served at ${[...options.routes.keys()].join(', ')}`);
    if (!isAllowedHost(req.headers.host, port)) return refuse(res, 403, 'Host not allowed');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins(port).has(origin)) return refuse(res, 403, 'Origin not allowed');
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : '';
    if (!given || !tokensEqual(given, token)) {
      return refuse(res, 401, given ? 'wrong bearer token' : 'missing bearer token (Authorization: Bearer <the token loom mcp printed>)', {
        'www-authenticate': 'Bearer realm="loom"',
      });
    }

    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = JSON.parse((await readBody(req)).toString('utf8'));
      } catch (err) {
        return refuse(res, 400, err instanceof BodyTooLargeError ? err.message : 'the body is not JSON');
      }
    }

    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const session = sessions.get(id);
      if (!session || session.path !== url.pathname) return refuse(res, 404, 'unknown or ended session: initialize a new one');
      touch(id, session);
      await session.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) return refuse(res, 400, 'no mcp-session-id header: send initialize first');

    const sessionId = randomUUID();
    const sessionHandle = await open(sessionId, () => void endSession(sessionId));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      onsessionclosed: (closedId) => void endSession(closedId),
    });
    const session: Session = { path: url.pathname, transport, handle: sessionHandle, closed: Promise.resolve() };
    sessions.set(sessionId, session);
    touch(sessionId, session);
    sessionHandle.server.onclose = () => void endSession(sessionId);
    await sessionHandle.server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) refuse(res, 500, 'internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  port = (http.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${MCP_PATH}`,
    origin: `http://127.0.0.1:${port}`,
    port,
    token,
    sessions: () => [...sessions.keys()],
    async close() {
      await Promise.allSettled([...sessions.keys()].map(endSession));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

class BodyTooLargeError extends Error {
  constructor() {
    super(`the body is over ${MAX_BODY_BYTES} bytes`);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
