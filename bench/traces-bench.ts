// The trace workbench's speed (issue 19), run by `npm run bench` and alone:
//
//   node bin/run-ts.js bench/traces-bench.ts [--json] [--spans N] [--paint-spans N] [--only ingest|paint]
//
//   ingest      the OTLP receiver with the trace store behind it, in this process (as in the
//               app): 1,000-span requests, pre-encoded, sent by 4 keep-alive connections from
//               this process, over JSON and over protobuf. Spans a second = spans / (first
//               request sent .. last answer), an answer comes after the spans are in SQLite.
//               This process's RSS before and after (the app's growth).
//   first paint a 100,000-span trace imported into a real service + web host (what `loom ui`
//               runs), the page in Chromium driven by Playwright: from the click on the trace in
//               the list to the first animation frame after its first row is in the DOM, timed
//               in the page with performance.now(); median of 3 opens.
//   page faults the machine's cost of a minor page fault (touching fresh memory), to read the
//               other figures against.
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { chromium } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toViewSpan } from '../shared/traces/view-span';
import { startWebHost } from '../electron/main/api/web-host';
import { createLoomService } from '../electron/main/app/service';
import { toReadableSpan } from '../electron/main/engine/tracing/otlp';
import { startOtlpReceiver } from '../electron/main/traces/otlp-receiver';
import { encodeOtlpJson } from '../electron/main/traces/otlp-json';
import { syntheticOtlpJson, syntheticTrace } from '../electron/main/traces/synthetic-trace';
import { TraceStore } from '../electron/main/traces/trace-store';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MB = 1024 * 1024;

export interface IngestFigures {
  encoding: 'json' | 'protobuf';
  spans: number;
  spansPerS: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssGrowthMb: number;
}

export interface TracesBench {
  ingest: IngestFigures[];
  firstPaint: { spans: number; opensMs: number[]; medianMs: number } | { skipped: string };
  pageFaultNs: number;
}

const log = (line: string): void => void process.stderr.write(`traces-bench: ${line}\n`);

/** A minor page fault's cost: fresh pages touched one byte each. */
export function pageFaultNs(): number {
  const pages = 32_768; // 128 MiB of 4 KiB pages
  const buf = Buffer.allocUnsafeSlow(pages * 4096);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pages; i++) buf[i * 4096] = 1;
  const ns = Number(process.hrtime.bigint() - t0) / pages;
  return Math.round(ns);
}

function post(agent: Agent, url: string, body: Buffer, contentType: string): Promise<number> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'Content-Type': contentType, 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolvePost(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function benchIngest(encoding: 'json' | 'protobuf', totalSpans: number): Promise<IngestFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-traces-bench-'));
  const store = new TraceStore(join(dir, 'history.sqlite'), { maxSpans: 10_000_000 });
  const receiver = await startOtlpReceiver({ port: 0, onSpans: (spans) => store.add(spans), maxSpansPerSecond: 10_000_000 });
  try {
    const perRequest = 1000;
    const resource = resourceFromAttributes({ 'service.name': 'bench-agent' });
    // Bodies made before the clock starts: many traces of 1,000 spans, as agents would send them.
    const bodies: Buffer[] = [];
    for (let i = 0; i < totalSpans / perRequest; i++) {
      const spans = syntheticTrace(randomBytes(16).toString('hex'), perRequest);
      if (encoding === 'json') bodies.push(Buffer.from(JSON.stringify(encodeOtlpJson(spans))));
      else {
        const readable = spans.map((s) => toReadableSpan(toViewSpan(s), resource));
        bodies.push(Buffer.from(ProtobufTraceSerializer.serializeRequest(readable) ?? new Uint8Array()));
      }
    }
    const contentType = encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < bodies.length; i = next++) {
        const status = await post(agent, receiver.url, bodies[i] as Buffer, contentType);
        if (status !== 200) throw new Error(`the receiver answered ${status}`);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const seconds = (performance.now() - t0) / 1000;
    const rssAfter = process.memoryUsage().rss;
    agent.destroy();
    const stored = store.list({ limit: 1000 }).reduce((n, t) => n + t.spanCount, 0);
    if (stored < Math.min(totalSpans, 1000 * perRequest)) throw new Error(`only ${stored} spans were stored`);
    return {
      encoding,
      spans: totalSpans,
      spansPerS: Math.round(totalSpans / seconds),
      rssBeforeMb: round(rssBefore / MB),
      rssAfterMb: round(rssAfter / MB),
      rssGrowthMb: round((rssAfter - rssBefore) / MB),
    };
  } finally {
    await receiver.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchFirstPaint(spans: number, opens = 3): Promise<TracesBench['firstPaint']> {
  const rendererDir = resolve(ROOT, 'out/renderer');
  const chromiumPath = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
  if (!existsSync(join(rendererDir, 'index.html'))) return { skipped: 'out/renderer is not built (npm run build)' };
  if (!existsSync(chromiumPath)) return { skipped: `no Chromium at ${chromiumPath}` };
  const dir = await mkdtemp(join(tmpdir(), 'loom-traces-paint-'));
  const service = await createLoomService({ historyPath: join(dir, 'history.sqlite') });
  const host = await startWebHost({ backend: service, rendererDir, port: 0 });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const big = randomBytes(16).toString('hex');
    const small = randomBytes(16).toString('hex');
    await service.importTraces(JSON.stringify(syntheticOtlpJson(big, spans)));
    await service.importTraces(JSON.stringify(syntheticOtlpJson(small, 10)));
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(host.url);
    await page.getByTestId('view-traces').click();
    await page.locator(`[data-trace-id="${big}"]`).waitFor();
    const times: number[] = [];
    for (let i = 0; i < opens; i++) {
      // Another trace first, so that each open starts from nothing.
      await page.locator(`[data-testid="trace-item"][data-trace-id="${small}"]`).click();
      await page.locator(`[data-testid="trace-detail"][data-trace-id="${small}"] [data-testid="trace-row"]`).first().waitFor();
      // In the page (as text: this file is type-checked without the DOM's types).
      const ms = Number(
        await page.evaluate(`new Promise((done, fail) => {
          const item = document.querySelector('[data-testid="trace-item"][data-trace-id="${big}"]');
          if (!item) return fail(new Error('no list item'));
          const t0 = performance.now();
          item.click();
          const poll = () => {
            if (document.querySelector('[data-testid="trace-detail"][data-trace-id="${big}"] [data-testid="trace-row"]')) {
              // The frame after the row is in the DOM is the one that paints it.
              requestAnimationFrame(() => done(performance.now() - t0));
            } else requestAnimationFrame(poll);
          };
          requestAnimationFrame(poll);
          setTimeout(() => fail(new Error('no row after 60 s')), 60000);
        })`),
      );
      times.push(round(ms));
      log(`first paint of ${spans} spans: ${round(ms)} ms`);
    }
    const sorted = [...times].sort((a, b) => a - b);
    return { spans, opensMs: times, medianMs: sorted[Math.floor(sorted.length / 2)] as number };
  } finally {
    await browser.close();
    await host.close();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchTraces(options: { ingestSpans?: number; paintSpans?: number; only?: 'ingest' | 'paint' } = {}): Promise<TracesBench> {
  const ingest: IngestFigures[] = [];
  for (const encoding of options.only === 'paint' ? [] : (['json', 'protobuf'] as const)) {
    const figures = await benchIngest(encoding, options.ingestSpans ?? 200_000);
    log(`ingest ${encoding}: ${figures.spansPerS} spans/s, RSS ${figures.rssBeforeMb} -> ${figures.rssAfterMb} MB`);
    ingest.push(figures);
  }
  const firstPaint = options.only === 'ingest' ? { skipped: '--only ingest' } : await benchFirstPaint(options.paintSpans ?? 100_000);
  return { ingest, firstPaint, pageFaultNs: pageFaultNs() };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// Alone: node bin/run-ts.js bench/traces-bench.ts [--json] [--spans N] [--paint-spans N] [--only ingest|paint]
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes('--json');
  const at = process.argv.indexOf('--spans');
  const spans = at > 0 ? Number(process.argv[at + 1]) : 200_000;
  const paintAt = process.argv.indexOf('--paint-spans');
  const paintSpans = paintAt > 0 ? Number(process.argv[paintAt + 1]) : 100_000;
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
  if (only !== undefined && only !== 'ingest' && only !== 'paint') throw new Error(`--only takes ingest or paint, got '${only}'`);
  const result = await benchTraces({ ingestSpans: spans, paintSpans, ...(only ? { only } : {}) });
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    for (const i of result.ingest) process.stdout.write(`ingest ${i.encoding.padEnd(8)} ${i.spansPerS} spans/s (target >= 50000)  RSS ${i.rssBeforeMb} -> ${i.rssAfterMb} MB (+${i.rssGrowthMb})\n`);
    const fp = result.firstPaint;
    process.stdout.write('skipped' in fp ? `first paint: skipped (${fp.skipped})\n` : `first paint of ${fp.spans} spans: median ${fp.medianMs} ms (target <= 1000), opens ${fp.opensMs.join(', ')} ms\n`);
    process.stdout.write(`page fault: ${result.pageFaultNs} ns\n`);
  }
}
