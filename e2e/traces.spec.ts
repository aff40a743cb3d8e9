// The Traces view against the real thing: an agent's spans sent by the OpenTelemetry JS SDK to
// the service's OTLP receiver appear live; a sandbox run started under the agent's span (as an
// agent would, with a traceparent) nests in the right place; two traces compared show the
// span that changed; a 100,000-span trace opens and scrolls.
import { context, trace, type Span as OtelSpan } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Locator, Page } from '@playwright/test';
import { randomBytes, randomUUID } from 'node:crypto';
import { syntheticOtlpJson } from '../electron/main/traces/synthetic-trace';
import { expect, test, type LoomHost } from './fixtures';
import { openApp, saveScreenshot } from './helpers';

async function agentProvider(loom: LoomHost): Promise<BasicTracerProvider> {
  const status = await loom.service.traceReceiverStatus();
  if (!status.url) throw new Error(`the receiver is not listening: ${status.error}`);
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'e2e-agent' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: status.url }))],
  });
}

async function openTraces(page: Page, loom: LoomHost): Promise<void> {
  await openApp(page, loom);
  await page.getByTestId('view-traces').click();
  await expect(page.getByTestId('receiver-status')).toContainText('OTLP at http://127.0.0.1:');
}

function traceItem(page: Page, traceId: string): Locator {
  return page.locator(`[data-testid="trace-item"][data-trace-id="${traceId}"]`);
}

function row(page: Page, name: string): Locator {
  return page.getByTestId('trace-row').filter({ has: page.getByTestId('trace-row-name').getByText(name, { exact: true }) });
}

test('an external trace appears live, and a sandbox run under its span nests there', async ({ page, loom }) => {
  await openTraces(page, loom);
  const provider = await agentProvider(loom);
  try {
    const tracer = provider.getTracer('e2e');
    const step = tracer.startSpan('agent.step', { attributes: { 'agent.goal': '<img src=x onerror=alert(1)>' } });
    const tool: OtelSpan = tracer.startSpan('tool.call', {}, trace.setSpan(context.active(), step));
    tool.addEvent('tool.chosen', { tool: 'python' });
    tool.end();
    step.end();
    await provider.forceFlush();
    const { traceId, spanId } = tool.spanContext();

    // Live: no reload, no click; the list follows the receiver.
    await expect(traceItem(page, traceId)).toContainText('agent.step');
    await expect(traceItem(page, traceId)).toContainText('e2e-agent');
    await traceItem(page, traceId).click();
    await expect(row(page, 'tool.call')).toHaveAttribute('aria-level', '2');

    // An agent's tool call runs code in the sandbox under its span.
    const program = "from loom_trace import trace_span\nwith trace_span('load_data'):\n    print('hi')\n";
    const { id } = await loom.service.startRun(randomUUID(), { command: ['python3', '-c', program], traceparent: `00-${traceId}-${spanId}-01` });
    await expect.poll(async () => (await loom.service.listRuns()).find((r) => r.id === id)?.status, { timeout: 90_000 }).toBe('ok');

    // The open trace refetches itself: the run is nested under tool.call, the program's span under the run.
    await expect(row(page, 'docker.execute')).toHaveAttribute('aria-level', '3', { timeout: 20_000 });
    await expect(row(page, 'load_data')).toHaveAttribute('aria-level', '4');
    // The run began after tool.call had ended (the agent sent its spans first), so it lies outside
    // what the root waited for: the critical path marks the root, not the run.
    await expect(row(page, 'agent.step')).toHaveAttribute('data-critical', 'true');
    await expect(row(page, 'docker.execute')).not.toHaveAttribute('data-critical', 'true');
    await expect(traceItem(page, traceId)).toContainText('loom-sandbox');

    // Attributes and events are text, never markup.
    await row(page, 'agent.step').click();
    await expect(page.getByTestId('span-attributes')).toContainText('<img src=x onerror=alert(1)>');
    await expect(page.locator('.span-details img')).toHaveCount(0);
    await row(page, 'tool.call').click();
    await expect(page.getByTestId('span-events')).toContainText('tool.chosen');
    await expect(page.getByTestId('span-service')).toHaveText('e2e-agent');

    await page.getByTestId('trace-tab-flame').click();
    await expect(page.getByTestId('flame-graph').locator('canvas')).toHaveAttribute('data-bars', /^[1-9]\d*$/);
    await saveScreenshot(page, 'traces-flame');
    await page.getByTestId('trace-tab-waterfall').click();
    await saveScreenshot(page, 'traces');
  } finally {
    await provider.shutdown();
  }
});

test('two traces compared show the span that changed', async ({ page, loom }) => {
  await openTraces(page, loom);
  const provider = await agentProvider(loom);
  const ids: string[] = [];
  try {
    const tracer = provider.getTracer('e2e');
    for (const [toolMs, model] of [
      [5, 'small'],
      [120, 'large'],
    ] as const) {
      const t0 = Date.now();
      const step = tracer.startSpan('compare.step', { startTime: t0 });
      const ctx = trace.setSpan(context.active(), step);
      tracer.startSpan('plan', { startTime: t0 }, ctx).end(t0 + 2);
      tracer.startSpan('tool.call', { startTime: t0 + 2, attributes: { model } }, ctx).end(t0 + 2 + toolMs);
      step.end(t0 + 130);
      ids.push(step.spanContext().traceId);
    }
    await provider.forceFlush();
  } finally {
    await provider.shutdown();
  }
  const [before, after] = ids as [string, string];
  await traceItem(page, before).click();
  await page.getByTestId('trace-tab-compare').click();
  await page.getByTestId('compare-with').selectOption(after);
  const changed = page.locator('[data-testid="compare-row"][data-path="compare.step > tool.call"]');
  await expect(changed).toHaveAttribute('data-change', 'slower');
  await expect(changed.getByTestId('attr-diff')).toHaveText('model: "small" → "large"');
  // Unchanged spans are hidden until asked for.
  await expect(page.locator('[data-testid="compare-row"][data-path="compare.step > plan"]')).toHaveCount(0);
  await page.getByTestId('compare-changed-only').uncheck();
  await expect(page.locator('[data-testid="compare-row"][data-path="compare.step > plan"]')).toHaveAttribute('data-change', 'same');
  await saveScreenshot(page, 'traces-compare');
});

test('a 100,000-span trace opens and scrolls', async ({ page, loom }) => {
  test.setTimeout(180_000);
  const traceId = randomBytes(16).toString('hex');
  await loom.service.importTraces(JSON.stringify(syntheticOtlpJson(traceId, 100_000)));
  await openTraces(page, loom);
  await page.getByTestId('traces-search').fill(traceId);
  await expect(traceItem(page, traceId)).toContainText('100,000 spans');
  await traceItem(page, traceId).click();
  const tree = page.getByTestId('trace-tree');
  await expect(row(page, 'agent.run')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('trace-view')).toContainText('100,000');
  // The first rows paint from the trace's head; End needs every span (the whole trace follows).
  await expect(page.getByTestId('trace-detail')).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });
  // Virtualized: a screenful of rows in the DOM, not 100,000.
  expect(await page.getByTestId('trace-row').count()).toBeLessThan(200);
  await tree.focus();
  await page.keyboard.press('End');
  await expect(page.locator('[data-testid="trace-row"][aria-posinset="100000"]')).toBeVisible();
  await page.keyboard.press('Home');
  await expect(page.locator('[data-testid="trace-row"][aria-posinset="1"]')).toBeVisible();
  await tree.evaluate((el) => el.scrollTo({ top: el.scrollHeight / 2 }));
  await expect(page.locator('[data-testid="trace-row"][aria-posinset="50010"]')).toBeVisible();
});
