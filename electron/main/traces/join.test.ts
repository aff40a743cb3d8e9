// A sandbox run started under an agent's span (ExecuteRequest.traceparent) lands in the agent's
// trace, nested under that span, whichever arrives first: the agent's spans over OTLP (from the
// real OpenTelemetry SDK, to the service's own receiver) or the run's. Real engine, real
// containers, real SQLite.
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoomEvent } from '../../../shared/api';
import { buildSpanTree, flattenTree } from '../../../shared/span-tree';
import { toViewSpan } from '../../../shared/traces/view-span';
import { requireEngineAndImages, waitFor } from '../engine/testing/test-support';
import { createLoomService, type LoomService } from '../app/service';

let dir: string;
let service: LoomService;
let provider: BasicTracerProvider;
const events: LoomEvent[] = [];

beforeAll(async () => {
  await requireEngineAndImages();
  dir = await mkdtemp(join(tmpdir(), 'loom-join-test-'));
  service = await createLoomService({ historyPath: join(dir, 'history.sqlite'), traces: { receiver: { port: 0 } } });
  service.onEvent((e) => events.push(e));
  const status = await service.traceReceiverStatus();
  expect(status.listening).toBe(true);
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'my-agent' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: status.url }))],
  });
}, 120_000);

afterAll(async () => {
  await provider?.shutdown();
  await service?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const PROGRAM = "from loom_trace import trace_span\nwith trace_span('load_data'):\n    pass\n";

async function runUnder(traceparent: string): Promise<void> {
  const { id } = await service.startRun(randomUUID(), { command: ['python3', '-c', PROGRAM], traceparent });
  await waitFor(`run ${id} to finish`, async () => events.find((e) => e.type === 'run.finished' && e.run.id === id), 120_000);
}

async function tree(traceId: string, spans: number): Promise<string[]> {
  const record = await waitFor(`${spans} spans in trace ${traceId}`, async () => {
    const r = await service.getTrace(traceId);
    return r && r.spans.length >= spans ? r : undefined;
  }, 30_000);
  const rows = flattenTree(buildSpanTree(record.spans.map(toViewSpan)));
  return rows.map((r) => `${'  '.repeat(r.depth)}${r.span.name}`);
}

/** The rows of interest: the agent's spans, the run's root and the program's span. */
const shape = (rows: string[]): string[] => rows.filter((r) => /agent\.step|tool\.call|docker\.execute|load_data/.test(r));

describe('a run under a parent span', () => {
  it('the agent span arrives first, then the run: nested under it', async () => {
    const tracer = provider.getTracer('agent');
    const step = tracer.startSpan('agent.step');
    const tool = tracer.startSpan('tool.call', {}, trace.setSpan(context.active(), step));
    tool.end();
    step.end();
    await provider.forceFlush();
    const { traceId, spanId } = tool.spanContext();
    await runUnder(`00-${traceId}-${spanId}-01`);
    expect(shape(await tree(traceId, 7))).toEqual(['agent.step', '  tool.call', '    docker.execute', '      load_data']);
    const summary = (await service.listTraces({ text: traceId }))[0];
    expect(summary).toMatchObject({ rootName: 'agent.step', complete: true, services: ['loom-sandbox', 'my-agent'] });
    expect(events.some((e) => e.type === 'traces.changed' && e.traceIds.includes(traceId))).toBe(true);
  }, 180_000);

  it('the run first (the agent span still open), then the agent span: nested all the same', async () => {
    const tracer = provider.getTracer('agent');
    const step = tracer.startSpan('agent.step');
    const tool = tracer.startSpan('tool.call', {}, trace.setSpan(context.active(), step));
    const { traceId, spanId } = tool.spanContext();
    await runUnder(`00-${traceId}-${spanId}-01`);
    expect((await service.listTraces({ text: traceId }))[0]).toMatchObject({ rootName: 'docker.execute', complete: false });
    tool.end();
    step.end();
    await provider.forceFlush();
    expect(shape(await tree(traceId, 7))).toEqual(['agent.step', '  tool.call', '    docker.execute', '      load_data']);
  }, 180_000);

  it('a malformed traceparent fails the request, naming the field', async () => {
    await expect(service.startRun(randomUUID(), { command: ['true'], traceparent: '00-abc-def-01' })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'traceparent',
    });
  });
});
