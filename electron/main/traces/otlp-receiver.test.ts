// The OTLP receiver against the real OpenTelemetry JS SDK as its client, over both encodings
// (JSON: the official OTLP/HTTP exporter; protobuf: the same exporter machinery with the SDK's
// protobuf serializer, which is what @opentelemetry/exporter-trace-otlp-proto is), with gzip,
// and against what a client must not get away with: malformed, oversized, too fast, the wrong
// content type, a foreign Host header.
import { context, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { CompressionAlgorithm, OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { TraceSpan } from '../../../shared/traces/types';
import { startOtlpReceiver, type OtlpReceiver, type OtlpReceiverOptions } from './otlp-receiver';

const receivers: OtlpReceiver[] = [];
const providers: BasicTracerProvider[] = [];

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(options: Partial<OtlpReceiverOptions> = {}): Promise<{ rx: OtlpReceiver; spans: TraceSpan[] }> {
  const spans: TraceSpan[] = [];
  const rx = await startOtlpReceiver({ port: 0, onSpans: (batch) => spans.push(...batch), ...options });
  receivers.push(rx);
  return { rx, spans };
}

class ProtobufExporter extends OTLPExporterBase<ReadableSpan[]> {
  constructor(url: string, compression: CompressionAlgorithm) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({ url, compression }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        ProtobufTraceSerializer,
        'otlp_http_span_exporter',
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
}

function tracerWith(exporter: SpanExporter): { tracer: Tracer; provider: BasicTracerProvider } {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'agent-under-test', 'deployment.environment': 'laptop' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  providers.push(provider);
  return { tracer: provider.getTracer('test-scope'), provider };
}

/** An agent's step: a root, a tool call under it with an event and a link, and a failing child. */
async function emitAgentTrace(tracer: Tracer, provider: BasicTracerProvider): Promise<{ traceId: string; rootId: string; toolId: string }> {
  const root = tracer.startSpan('agent.step', { attributes: { 'gen_ai.operation.name': 'chat', 'agent.turn': 3, ratio: 0.5, ok: true, tags: ['a', 'b'] } });
  const linked = tracer.startSpan('elsewhere');
  linked.end();
  const ctx = trace.setSpan(context.active(), root);
  const tool = tracer.startSpan('tool.call', { links: [{ context: linked.spanContext(), attributes: { why: 'follows' } }] }, ctx);
  tool.addEvent('tool.started', { 'tool.name': 'python' });
  const failing = tracer.startSpan('tool.parse', {}, trace.setSpan(ctx, tool));
  failing.setStatus({ code: SpanStatusCode.ERROR, message: 'bad <b>json</b>' });
  failing.end();
  tool.end();
  root.end();
  await provider.forceFlush();
  return { traceId: root.spanContext().traceId, rootId: root.spanContext().spanId, toolId: tool.spanContext().spanId };
}

function expectAgentTrace(spans: TraceSpan[], ids: { traceId: string; rootId: string; toolId: string }): void {
  const of = (name: string): TraceSpan => {
    const span = spans.find((s) => s.name === name && s.traceId === ids.traceId);
    if (!span) throw new Error(`no span ${name} among ${spans.map((s) => s.name).join(', ')}`);
    return span;
  };
  const root = of('agent.step');
  expect(root).toMatchObject({ spanId: ids.rootId, parentSpanId: '', service: 'agent-under-test', scope: 'test-scope', source: 'external', status: 'unset' });
  expect(root.attributes).toEqual({ 'gen_ai.operation.name': 'chat', 'agent.turn': 3, ratio: 0.5, ok: true, tags: ['a', 'b'] });
  expect(root.resource['deployment.environment']).toBe('laptop');
  expect(BigInt(root.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(root.startTimeUnixNano));
  expect(BigInt(root.startTimeUnixNano)).toBeGreaterThan(1_600_000_000_000_000_000n);
  const tool = of('tool.call');
  expect(tool.parentSpanId).toBe(ids.rootId);
  expect(tool.events).toEqual([expect.objectContaining({ name: 'tool.started', attributes: { 'tool.name': 'python' } })]);
  // The linked span is a root of its own, in another trace.
  const elsewhere = spans.find((s) => s.name === 'elsewhere');
  expect(elsewhere?.traceId).not.toBe(ids.traceId);
  expect(tool.links).toEqual([{ traceId: elsewhere?.traceId, spanId: elsewhere?.spanId, attributes: { why: 'follows' } }]);
  expect(of('tool.parse')).toMatchObject({ parentSpanId: ids.toolId, status: 'error', statusMessage: 'bad <b>json</b>' });
}

describe('the OTLP receiver with the OpenTelemetry JS SDK as client', () => {
  it('takes JSON (the official OTLP/HTTP exporter)', async () => {
    const { rx, spans } = await receiver();
    const { tracer, provider } = tracerWith(new OTLPTraceExporter({ url: rx.url }));
    const ids = await emitAgentTrace(tracer, provider);
    expectAgentTrace(spans, ids);
    expect(rx.status()).toMatchObject({ listening: true, acceptedSpans: 4, malformedRequests: 0 });
  });

  it('takes JSON gzipped', async () => {
    const { rx, spans } = await receiver();
    const { tracer, provider } = tracerWith(new OTLPTraceExporter({ url: rx.url, compression: CompressionAlgorithm.GZIP }));
    expectAgentTrace(spans, await emitAgentTrace(tracer, provider));
  });

  it('takes protobuf, plain and gzipped', async () => {
    for (const compression of [CompressionAlgorithm.NONE, CompressionAlgorithm.GZIP]) {
      const { rx, spans } = await receiver();
      const { tracer, provider } = tracerWith(new ProtobufExporter(rx.url, compression));
      expectAgentTrace(spans, await emitAgentTrace(tracer, provider));
      expect(rx.status().acceptedSpans).toBe(4);
    }
  });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

function oneSpanJson(traceId = '0af7651916cd43dd8448eb211c80319c', spanId = 'b7ad6b7169203331'): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'curl' } }] },
        scopeSpans: [{ scope: { name: 's' }, spans: [{ traceId, spanId, name: 'x', kind: 1, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000' }] }],
      },
    ],
  });
}

describe('the OTLP receiver refuses what it must', () => {
  it('malformed JSON and protobuf: 400 with the reason, counted, nothing stored', async () => {
    const { rx, spans } = await receiver();
    const bad = await post(rx.url, '{"resourceSpans": 5}', JSON_TYPE);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/json');
    expect(bad.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(bad.body.toString())).toEqual({ code: 3, message: 'not an OTLP trace export (json): resourceSpans must be an array' });
    expect((await post(rx.url, 'not json at all', JSON_TYPE)).status).toBe(400);
    // A length-delimited field that claims more bytes than the body has.
    const proto = await post(rx.url, Buffer.from([0x0a, 0x7f, 0x01]), { 'Content-Type': 'application/x-protobuf' });
    expect(proto.status).toBe(400);
    expect(proto.body.toString()).toContain('runs past the end');
    expect((await post(rx.url, Buffer.from('not gzip'), { ...JSON_TYPE, 'Content-Encoding': 'gzip' })).status).toBe(400);
    expect(rx.status().malformedRequests).toBe(4);
    expect(spans).toEqual([]);
  });

  it('spans with invalid ids are left out and reported as a partial success', async () => {
    const { rx, spans } = await receiver();
    const body = JSON.parse(oneSpanJson()) as { resourceSpans: { scopeSpans: { spans: object[] }[] }[] };
    body.resourceSpans[0]?.scopeSpans[0]?.spans.push({ traceId: '00000000000000000000000000000000', spanId: 'b7ad6b7169203332', name: 'zero' });
    const reply = await post(rx.url, JSON.stringify(body), JSON_TYPE);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body.toString())).toEqual({ partialSuccess: { rejectedSpans: '1', errorMessage: '1 span(s) had an invalid trace or span id' } });
    expect(spans.map((s) => s.name)).toEqual(['x']);
    expect(rx.status()).toMatchObject({ acceptedSpans: 1, rejectedSpans: 1 });
  });

  it('bounds the body, before and after gunzip', async () => {
    const { rx } = await receiver({ maxBodyBytes: 4096, maxDecodedBytes: 64 * 1024 });
    const big = await post(rx.url, 'x'.repeat(10_000), JSON_TYPE);
    expect(big.status).toBe(413);
    // 1 MB of spaces gzips to about 1 kB: small as sent, too big once inflated.
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(4096);
    const inflated = await post(rx.url, bomb, { ...JSON_TYPE, 'Content-Encoding': 'gzip' });
    expect(inflated.status).toBe(413);
    expect(JSON.parse(inflated.body.toString()).message).toContain('once gunzipped');
    expect(rx.status().refusedRequests).toBe(2);
  });

  it('bounds the rate: over it, 429 with Retry-After', async () => {
    const { rx, spans } = await receiver({ maxSpansPerSecond: 2 });
    const ids = ['b7ad6b7169203331', 'b7ad6b7169203332', 'b7ad6b7169203333'];
    const replies = [];
    for (const id of ids) replies.push(await post(rx.url, oneSpanJson(undefined, id), JSON_TYPE));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(replies[2]?.headers['retry-after']).toBe('1');
    expect(spans).toHaveLength(2);
  });

  it('takes only POST /v1/traces with an OTLP content type and a local Host', async () => {
    const { rx } = await receiver();
    expect((await post(rx.url, oneSpanJson(), { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await post(rx.url, oneSpanJson(), { ...JSON_TYPE, 'Content-Encoding': 'br' })).status).toBe(415);
    expect((await post(rx.url.replace('/v1/traces', '/v1/logs'), oneSpanJson(), JSON_TYPE)).status).toBe(404);
    // DNS rebinding: a page of evil.example resolving to 127.0.0.1 still sends its own Host.
    expect((await post(rx.url, oneSpanJson(), { ...JSON_TYPE, Host: `evil.example:${rx.port}` })).status).toBe(403);
    const cors = await new Promise<Reply>((resolve, reject) => {
      const req = request(rx.url, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(cors.status).toBe(405);
    expect(cors.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('listens on 127.0.0.1 only, and says clearly when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startOtlpReceiver({ port, onSpans: () => undefined })).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: the port is already in use`);
    } finally {
      blocker.close();
    }
    const { rx } = await receiver();
    expect(rx.url).toBe(`http://127.0.0.1:${rx.port}/v1/traces`);
  });
});
