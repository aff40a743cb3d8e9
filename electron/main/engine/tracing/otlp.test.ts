import { create, type JsonObject, type MessageInitShape } from '@bufbuild/protobuf';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SpanSchema, SpanSource, SpanStatus, type Span } from '../../../../shared/gen/loom/v1/docker_pb';
import { OtlpSink, otlpEndpointFromEnv, toAttributes, toHrTime, tracesUrl } from './otlp';

// The OTLP/JSON request, as far as these tests read it. The JS exporter sends ids as hex
// strings (not base64) and times as decimal strings: checked here against the real wire format.
interface OtlpAnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  status: { code: number; message?: string };
}
interface OtlpRequest {
  resourceSpans: { resource: { attributes: OtlpKeyValue[] }; scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A collector on 127.0.0.1 with a free port; `handle` decides how (or whether) to answer. */
async function receiver(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A collector that answers 200 and keeps every decoded request. */
async function collector(): Promise<{ url: string; requests: OtlpRequest[]; paths: string[] }> {
  const requests: OtlpRequest[] = [];
  const paths: string[] = [];
  const url = await receiver((req, res, body) => {
    paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
    requests.push(JSON.parse(body) as OtlpRequest);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  return { url, requests, paths };
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const ROOT = '00f067aa0ba902b7';
const CHILD = '53995c3f42cd8ad8';

function span(spanId: string, parentSpanId: string, name: string, extra: MessageInitShape<typeof SpanSchema> = {}): Span {
  return create(SpanSchema, {
    traceId: TRACE,
    spanId,
    parentSpanId,
    name,
    // Past 2^53 ns: a double would round these; they must arrive digit for digit.
    startTimeUnixNano: 1_700_000_000_123_456_789n,
    endTimeUnixNano: 1_700_000_000_987_654_321n,
    source: SpanSource.HOST,
    ...extra,
  });
}

const attr = (kvs: OtlpKeyValue[], key: string): OtlpAnyValue | undefined => kvs.find((kv) => kv.key === key)?.value;

describe('OtlpSink against a local OTLP/HTTP receiver', () => {
  it('delivers the spans with ids, exact times, attributes, status and loom.source', async () => {
    const { url, requests, paths } = await collector();
    const errors: Error[] = [];
    const sink = new OtlpSink({ endpoint: url, serviceName: 'loom-test', onError: (e) => errors.push(e) });

    const attributes: JsonObject = {
      runtime: 'python',
      exit_code: 1,
      ratio: 0.5,
      cached: false,
      tags: ['a', 'b'],
      nested: { k: [1, 'x'] },
      nothing: null,
      'loom.source': 'spoofed',
    };
    sink.export([span(ROOT, '', 'docker.execute', { attributes })]);
    // A second call in the same tick joins the same request.
    sink.export([
      span(CHILD, ROOT, 'save_results', {
        source: SpanSource.CONTAINER,
        status: SpanStatus.ERROR,
        statusMessage: 'ValueError: bad',
        startTimeUnixNano: 1_700_000_000_500_000_001n,
        endTimeUnixNano: 1_700_000_000_500_000_999n,
      }),
    ]);
    await sink.shutdown(); // waits for the request under way

    expect(errors).toEqual([]);
    expect(paths).toEqual(['POST /v1/traces application/json']);
    expect(requests).toHaveLength(1);
    const [resourceSpans] = requests[0]?.resourceSpans ?? [];
    expect(attr(resourceSpans?.resource.attributes ?? [], 'service.name')).toEqual({ stringValue: 'loom-test' });
    const spans = resourceSpans?.scopeSpans.flatMap((s) => s.spans) ?? [];
    expect(spans).toHaveLength(2);

    const root = spans.find((s) => s.name === 'docker.execute');
    const child = spans.find((s) => s.name === 'save_results');
    expect(root).toMatchObject({
      traceId: TRACE,
      spanId: ROOT,
      kind: 1, // SPAN_KIND_INTERNAL
      startTimeUnixNano: '1700000000123456789',
      endTimeUnixNano: '1700000000987654321',
      status: { code: 0 },
    });
    expect(root?.parentSpanId ?? '').toBe('');
    expect(child).toMatchObject({
      traceId: TRACE,
      spanId: CHILD,
      parentSpanId: ROOT,
      startTimeUnixNano: '1700000000500000001',
      endTimeUnixNano: '1700000000500000999',
      status: { code: 2, message: 'ValueError: bad' },
    });

    const rootAttrs = root?.attributes ?? [];
    expect(attr(rootAttrs, 'runtime')).toEqual({ stringValue: 'python' });
    expect(Number(attr(rootAttrs, 'exit_code')?.intValue)).toBe(1);
    expect(attr(rootAttrs, 'ratio')).toEqual({ doubleValue: 0.5 });
    expect(attr(rootAttrs, 'cached')).toEqual({ boolValue: false });
    expect(attr(rootAttrs, 'tags')).toEqual({ arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } });
    expect(attr(rootAttrs, 'nested')).toEqual({ stringValue: '{"k":[1,"x"]}' });
    expect(attr(rootAttrs, 'nothing')).toBeUndefined();
    // Our own loom.source wins over one the span carried.
    expect(attr(rootAttrs, 'loom.source')).toEqual({ stringValue: 'host' });
    expect(attr(child?.attributes ?? [], 'loom.source')).toEqual({ stringValue: 'container' });
  });

  it('splits a large export into several requests and loses nothing', async () => {
    const { url, requests } = await collector();
    const sink = new OtlpSink({ endpoint: `${url}/v1/traces` });
    const ids = Array.from({ length: 1200 }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
    sink.export(ids.map((id) => span(id, ROOT, `s${id}`)));
    await sink.shutdown();
    expect(requests.length).toBe(3);
    const got = requests.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.spanId))));
    expect(got.sort()).toEqual(ids);
  });

  it('reports a collector that refuses the request (HTTP 400) to onError', async () => {
    const url = await receiver((_req, res) => res.writeHead(400).end('bad'));
    const onError = vi.fn();
    const sink = new OtlpSink({ endpoint: url, onError });
    sink.export([span(ROOT, '', 'x')]);
    await sink.shutdown();
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('with the collector down: export returns at once, onError hears of it, shutdown is bounded', async () => {
    const timeoutMs = 1500;
    const onError = vi.fn();
    const sink = new OtlpSink({ endpoint: await closedPort(), timeoutMs, onError });

    const t0 = performance.now();
    sink.export([span(ROOT, '', 'x')]);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(onError).not.toHaveBeenCalled();

    const t1 = performance.now();
    await sink.shutdown();
    expect(performance.now() - t1).toBeLessThan(timeoutMs + 1000);
    await vi.waitFor(() => expect(onError).toHaveBeenCalled(), { timeout: 5000 });
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(Error);
  });

  it('with a collector that never answers: shutdown gives up after timeoutMs', async () => {
    const timeoutMs = 1000;
    let received = 0;
    const url = await receiver(() => received++); // reads the request, never responds
    const onError = vi.fn();
    const sink = new OtlpSink({ endpoint: url, timeoutMs, onError });

    const t0 = performance.now();
    sink.export([span(ROOT, '', 'x')]);
    expect(performance.now() - t0).toBeLessThan(50);
    await vi.waitFor(() => expect(received).toBe(1), { timeout: 2000 });

    const t1 = performance.now();
    await sink.shutdown();
    expect(performance.now() - t1).toBeLessThan(timeoutMs + 1000);
    // The request times out and is reported rather than hanging forever.
    await vi.waitFor(() => expect(onError).toHaveBeenCalled(), { timeout: 5000 });
  });

  it('never throws from export: not after shutdown, not when onError throws', async () => {
    const onError = vi.fn(() => {
      throw new Error('handler bug');
    });
    const sink = new OtlpSink({ endpoint: await closedPort(), timeoutMs: 200, onError });
    await sink.shutdown();
    expect(() => sink.export([span(ROOT, '', 'late')])).not.toThrow();
    await vi.waitFor(() => expect(onError).toHaveBeenCalled());
    await expect(sink.shutdown()).resolves.toBeUndefined();
  });
});

describe('conversions', () => {
  it('converts nanoseconds to HrTime exactly', () => {
    expect(toHrTime(0n)).toEqual([0, 0]);
    expect(toHrTime(1_700_000_000_123_456_789n)).toEqual([1_700_000_000, 123_456_789]);
    expect(toHrTime(18_446_744_073_709_551_615n)).toEqual([18_446_744_073, 709_551_615]);
  });

  it('keeps primitive and homogeneous-array attributes, drops nulls, stringifies the rest', () => {
    expect(
      toAttributes({ s: 's', n: 1.5, b: true, ns: [1, 2], bs: [true], mixed: [1, 'a'], obj: { a: null }, z: null, empty: [] }),
    ).toEqual({ s: 's', n: 1.5, b: true, ns: [1, 2], bs: [true], mixed: '[1,"a"]', obj: '{"a":null}', empty: [] });
    expect(toAttributes(undefined)).toEqual({});
  });
});

describe('endpoints', () => {
  it('reads the OpenTelemetry variables, the traces one first', () => {
    expect(otlpEndpointFromEnv({})).toBeUndefined();
    expect(otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe('http://c:4318/v1/traces');
    expect(otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/prefix/' })).toBe('http://c:4318/prefix/v1/traces');
    expect(
      otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9999/custom' }),
    ).toBe('http://t:9999/custom');
    expect(otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ' ', OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBeUndefined();
  });

  it.each([
    ['http://localhost:4318', 'http://localhost:4318/v1/traces'],
    ['http://localhost:4318/', 'http://localhost:4318/v1/traces'],
    ['https://c.example/v1/traces', 'https://c.example/v1/traces'],
    ['http://c.example/otlp/custom', 'http://c.example/otlp/custom'],
  ])('completes a bare base URL and keeps a full one: %s is %s', (endpoint, url) => {
    expect(tracesUrl(endpoint)).toBe(url);
  });

  it.each(['localhost:4318', 'not a url'])('refuses %j as an endpoint', (endpoint) => {
    expect(() => tracesUrl(endpoint)).toThrow();
  });

  it('refuses an endpoint that is neither http nor https', () => {
    expect(() => new OtlpSink({ endpoint: 'ftp://c.example' })).toThrow(TypeError);
  });
});
