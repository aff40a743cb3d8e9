// An OTLP/HTTP trace receiver (https://opentelemetry.io/docs/specs/otlp/#otlphttp): POST
// /v1/traces with a protobuf or JSON body, gzip or not, on 127.0.0.1 only. What it takes is
// bounded: the body's size before and after gunzip, the spans a second (a token bucket; over it
// the client hears 429 and retries), and what the store keeps (its retention). A body that is
// not a trace export gets 400 with the reason, as a google.rpc.Status in the request's encoding,
// and is counted.
//
// Browsers: a page may send requests to 127.0.0.1, but only "simple" ones without asking
// first, and neither content type accepted here is simple; no CORS header is ever sent, so
// the preflight fails. The Host header must name this machine, which stops DNS rebinding.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import type { ReceiverStatus, TraceSpan } from '../../../shared/traces/types';
import { decodeOtlpJsonText, OtlpDecodeError, type DecodedSpans } from './otlp-json';
import { decodeOtlpProtobuf } from './otlp-protobuf';

export const DEFAULT_OTLP_PORT = 4318;
export const TRACES_PATH = '/v1/traces';

export interface OtlpReceiverOptions {
  /** Default 4318 (OTLP/HTTP's own); 0 picks a free port. */
  port?: number;
  /** Where decoded spans go (the trace store). May throw: the client then hears 503. */
  onSpans: (spans: TraceSpan[]) => void;
  /** Largest body as sent (compressed or not). Default 16 MiB. */
  maxBodyBytes?: number;
  /** Largest body after gunzip. Default 64 MiB. */
  maxDecodedBytes?: number;
  /** Spans accepted per second, with a burst of as many. Default 200,000. */
  maxSpansPerSecond?: number;
}

export interface OtlpReceiver {
  readonly port: number;
  readonly url: string;
  status(): ReceiverStatus;
  close(): Promise<void>;
}

type Encoding = 'json' | 'protobuf';

/** An answer other than 200, with the reason the client is told. */
class Refusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly malformed = false,
  ) {
    super(message);
  }
}

export async function startOtlpReceiver(options: OtlpReceiverOptions): Promise<OtlpReceiver> {
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const maxDecoded = options.maxDecodedBytes ?? 64 * 1024 * 1024;
  const rate = options.maxSpansPerSecond ?? 200_000;
  let tokens = rate;
  let refilledAt = performance.now();
  const counts = { acceptedSpans: 0, rejectedSpans: 0, malformedRequests: 0, refusedRequests: 0 };
  let port = 0;

  const takeTokens = (n: number): boolean => {
    const now = performance.now();
    tokens = Math.min(rate, tokens + ((now - refilledAt) / 1000) * rate);
    refilledAt = now;
    // A single request bigger than the whole bucket would never pass: it may take what there is.
    if (tokens >= Math.min(n, rate)) {
      tokens -= n;
      return true;
    }
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let encoding: Encoding = 'json';
    try {
      if (!localHost(req.headers.host, port)) throw new Refusal(403, `the Host header must be 127.0.0.1:${port} or localhost:${port}`);
      const path = (req.url ?? '').split('?')[0];
      if (path !== TRACES_PATH) throw new Refusal(404, `only ${TRACES_PATH} is served here (traces over OTLP/HTTP)`);
      if (req.method !== 'POST') throw new Refusal(405, `${TRACES_PATH} takes POST`);
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type === 'application/x-protobuf') encoding = 'protobuf';
      else if (type !== 'application/json') throw new Refusal(415, `Content-Type must be application/x-protobuf or application/json, got '${(type ?? '').slice(0, 60)}'`);
      const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (contentEncoding !== 'gzip' && contentEncoding !== 'identity') throw new Refusal(415, `Content-Encoding must be gzip or none, got '${contentEncoding.slice(0, 40)}'`);
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > maxBody) throw new Refusal(413, `the body is ${declared} bytes; at most ${maxBody} are taken`);

      let body = await readBody(req, maxBody);
      if (contentEncoding === 'gzip') body = await gunzipBounded(body, maxDecoded);
      let decoded: DecodedSpans;
      try {
        decoded = encoding === 'protobuf' ? decodeOtlpProtobuf(body) : decodeOtlpJsonText(body.toString('utf8'));
      } catch (err) {
        if (err instanceof OtlpDecodeError) throw new Refusal(400, `not an OTLP trace export (${encoding}): ${err.message}`, true);
        throw err;
      }
      if (!takeTokens(decoded.spans.length)) {
        res.setHeader('Retry-After', '1');
        throw new Refusal(429, `more than ${rate} spans a second: try again shortly`);
      }
      try {
        if (decoded.spans.length) options.onSpans(decoded.spans);
      } catch {
        throw new Refusal(503, 'the trace store could not take the spans');
      }
      counts.acceptedSpans += decoded.spans.length;
      counts.rejectedSpans += decoded.rejected;
      reply(res, 200, encoding, exportResponse(encoding, decoded.rejected));
    } catch (err) {
      const refusal = err instanceof Refusal ? err : new Refusal(500, 'the receiver failed on this request');
      if (refusal.malformed) counts.malformedRequests++;
      else counts.refusedRequests++;
      // The rest of a refused body is not read: the connection closes after the answer.
      if (!req.complete) res.setHeader('Connection', 'close');
      reply(res, refusal.statusCode, encoding, statusBody(encoding, refusal.statusCode, refusal.message));
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(
        err.code === 'EADDRINUSE'
          ? Object.assign(new Error(`the OTLP receiver cannot listen on 127.0.0.1:${options.port ?? DEFAULT_OTLP_PORT}: the port is already in use (another collector or Loom?); choose another port or turn the receiver off`), {
              code: 'EADDRINUSE',
            })
          : err,
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options.port ?? DEFAULT_OTLP_PORT, '127.0.0.1');
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}${TRACES_PATH}`;

  return {
    port,
    url,
    status: () => ({ enabled: true, listening: server.listening, url, ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function localHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}` || host === `[::1]:${port}`;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new Refusal(413, `the body is over ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', () => reject(new Refusal(400, 'the body could not be read')));
  });
}

function gunzipBounded(body: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: max }, (err, out) => {
      if (!err) resolve(out);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject(new Refusal(413, `the body is over ${max} bytes once gunzipped`));
      else reject(new Refusal(400, `the body is not valid gzip: ${err.message}`, true));
    });
  });
}

function reply(res: ServerResponse, statusCode: number, encoding: Encoding, body: Buffer | string): void {
  res.writeHead(statusCode, {
    'Content-Type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

// google.rpc.Code for each HTTP status the receiver answers with.
const RPC_CODES: Record<number, number> = { 400: 3, 403: 7, 404: 5, 405: 12, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14 };

function statusBody(encoding: Encoding, httpStatus: number, message: string): Buffer | string {
  const code = RPC_CODES[httpStatus] ?? 2;
  if (encoding === 'json') return JSON.stringify({ code, message });
  return Buffer.concat([varintField(1, code), bytesField(2, Buffer.from(message, 'utf8'))]);
}

function exportResponse(encoding: Encoding, rejected: number): Buffer | string {
  const message = rejected ? `${rejected} span(s) had an invalid trace or span id` : '';
  if (encoding === 'json') return JSON.stringify(rejected ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } } : {});
  if (!rejected) return Buffer.alloc(0);
  return bytesField(1, Buffer.concat([varintField(1, rejected), bytesField(2, Buffer.from(message, 'utf8'))]));
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function varintField(field: number, n: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(n)]);
}

function bytesField(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(bytes.length), bytes]);
}
