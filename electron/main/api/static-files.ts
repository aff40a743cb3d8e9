// Serving the built renderer: which file a URL names (never one outside the renderer directory),
// its content type, and the headers every response carries.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

/**
 * The renderer's Content-Security-Policy, exactly as its meta tag in renderer/index.html says
 * (a test keeps the two equal); images may be data: and blob: URLs (a session's plots, file
 * previews). The host sends it as a header too, adding the one thing the page
 * needs in browser mode: its WebSocket back to this host.
 */
export const RENDERER_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; script-src 'self'; img-src 'self' data: blob:";

export function hostCsp(port: number): string {
  return `${RENDERER_CSP}; connect-src 'self' ws://127.0.0.1:${port}`;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers on every response of the host, files and refusals alike. */
export function securityHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': hostCsp(port),
    'X-Content-Type-Options': 'nosniff',
    // The first address carries the access token: never hand it to anyone in a Referer.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  };
}

export type StaticLookup = { file: string } | { status: 400 | 403 | 404 };

/**
 * The file under `root` that a request path names. Refused (403) are '..' and '.' segments,
 * however encoded, backslashes and NUL; dotfiles are not served (404); a symlink that leads out
 * of root is refused too. '/' and directories mean their index.html.
 */
export async function lookupStaticFile(root: string, requestUrl: string): Promise<StaticLookup> {
  const rawPath = requestUrl.split(/[?#]/, 1)[0] ?? '';
  if (!rawPath.startsWith('/')) return { status: 400 };
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return { status: 400 };
  }
  if (path.includes('\0') || path.includes('\\')) return { status: 403 };
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.')) return { status: 403 };
  if (segments.some((s) => s.startsWith('.'))) return { status: 404 };
  if (path.endsWith('/')) segments[segments.length - 1] = 'index.html';

  const base = resolve(root);
  const file = resolve(base, ...segments);
  if (!file.startsWith(base + sep)) return { status: 403 };
  try {
    const [realBase, realFile] = await Promise.all([realpath(base), realpath(file)]);
    if (!realFile.startsWith(realBase + sep)) return { status: 403 };
    const info = await stat(realFile);
    if (info.isDirectory()) return lookupStaticFile(root, `${rawPath}/`);
    return info.isFile() ? { file: realFile } : { status: 404 };
  } catch {
    return { status: 404 };
  }
}

/** Answers a GET or HEAD for a file of the built renderer. */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const found = await lookupStaticFile(root, req.url ?? '/');
  if ('status' in found) {
    sendText(res, found.status, found.status === 404 ? 'Not found' : found.status === 403 ? 'Forbidden' : 'Bad request', headers);
    return;
  }
  const info = await stat(found.file);
  res.writeHead(200, { ...headers, 'Content-Type': contentType(found.file), 'Content-Length': String(info.size) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(found.file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string>, extra: Record<string, string> = {}): void {
  send(res, status, 'text/plain; charset=utf-8', text, { ...headers, ...extra });
}

/** For the host's own pages (access-pages.ts): never cached, they depend on the request's credentials. */
export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string>, extra: Record<string, string> = {}): void {
  send(res, status, 'text/html; charset=utf-8', html, { ...headers, 'Cache-Control': 'no-store', ...extra });
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}
