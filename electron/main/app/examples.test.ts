// Every example is a valid request, and every one that needs no network does what its
// description says, on the real engine through the service the UI uses.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoomEvent, RunRecord } from '../../../shared/api';
import { normalizeRequest, requestPolicyOf } from '../engine/request/request';
import { requireEngineAndImages, waitFor } from '../engine/testing/test-support';
import { EXAMPLES, listExamples } from './examples';
import { parseRequestJson } from './request-json';
import { runTitle } from './run-title';
import { createLoomService, type LoomService } from './service';

let dir = '';
let service: LoomService;
const finished = new Set<string>();

const decode = (base64: string | undefined): string => Buffer.from(base64 ?? '', 'base64').toString('utf8');
const spanNames = (record: RunRecord): string[] => record.response?.spans?.map((s) => s.name ?? '') ?? [];

async function runExample(id: string): Promise<RunRecord> {
  const example = EXAMPLES.find((e) => e.id === id);
  if (!example) throw new Error(`no example ${id}`);
  const { id: runId } = await service.startRun(randomUUID(), example.request);
  await waitFor(`example ${id}`, async () => finished.has(runId), 90_000);
  const record = await service.getRun(runId);
  if (!record) throw new Error(`run ${runId} is not in the history`);
  return record;
}

beforeAll(async () => {
  await requireEngineAndImages();
  dir = await mkdtemp(join(tmpdir(), 'loom-examples-test-'));
  service = await createLoomService({ historyPath: join(dir, 'history.sqlite') });
  service.onEvent((e: LoomEvent) => {
    if (e.type === 'run.finished') finished.add(e.run.id);
  });
});

afterAll(async () => {
  await service?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('examples', () => {
  it.each(EXAMPLES.map((e) => [e.id, e] as const))('%s is a valid request with a title and a description', (_id, example) => {
    expect(example.title && example.description).toBeTruthy();
    const request = parseRequestJson(example.request);
    expect(() => normalizeRequest(request, requestPolicyOf({}))).not.toThrow();
    expect(runTitle(request).length).toBeGreaterThan(3);
  });

  it('have unique ids, and say which needs the network', () => {
    const ids = EXAMPLES.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(EXAMPLES.find((e) => e.id === 'pip-package')?.description).toMatch(/needs network/i);
    // The list handed out is a copy: editing it leaves the originals alone.
    const copy = listExamples();
    copy[0]!.title = 'edited';
    expect(EXAMPLES[0]?.title).not.toBe('edited');
  });

  it("Example 1 prints the sum and traces load_data, process_data and save_results", async () => {
    const r = await runExample('data-processing');
    expect(r.status).toBe('ok');
    expect(decode(r.response?.stdout)).toMatch(/Trace ID: [0-9a-f]{32}\n[^]*Sum: 15\n[^]*Results saved\n/);
    expect(spanNames(r)).toEqual(expect.arrayContaining(['load_data', 'process_data', 'save_results']));
    const root = r.response?.spans?.find((s) => s.name === 'docker.execute');
    const load = r.response?.spans?.find((s) => s.name === 'load_data');
    expect(load?.parentSpanId).toBe(root?.spanId);
  });

  it('Example 2 (Node) fetches through a simulated API inside traceSpanSync spans', async () => {
    const r = await runExample('api-integration');
    expect(r.status).toBe('ok');
    expect(r.runtime).toBe('node');
    expect(decode(r.response?.stdout)).toContain('User: octocat\nPublic repos: 8\nProcessing completed\n');
    expect(spanNames(r)).toEqual(expect.arrayContaining(['fetch_user_data', 'process_response']));
  });

  it('the hello, nested-spans and stdin examples run', async () => {
    expect(decode((await runExample('python-hello')).response?.stdout)).toBe('Hello from Docker!\n');

    const nested = await runExample('nested-spans');
    expect(decode(nested.response?.stdout)).toBe(`loaded 30 rows, total ${Array.from({ length: 30 }, (_, i) => i * i).reduce((a, b) => a + b)}\n`);
    const spans = nested.response?.spans ?? [];
    const byName = (name: string) => spans.filter((s) => s.name === name);
    expect(byName('page')).toHaveLength(3);
    expect(byName('page')[0]?.parentSpanId).toBe(byName('extract')[0]?.spanId);
    expect(byName('extract')[0]?.parentSpanId).toBe(byName('pipeline')[0]?.spanId);

    expect(decode((await runExample('stdin')).response?.stdout)).toBe('Ada: 2 items, total 286.25\n');
  });

  it('the timeout example times out and the memory example is OOM-killed', async () => {
    const timeout = await runExample('timeout');
    expect(timeout.status).toBe('timed_out');
    expect(decode(timeout.response?.stdout)).toContain('spinning');

    const memory = await runExample('memory-limit');
    expect(memory.status).toBe('failed');
    expect(memory.exitCode).toBe(137);
    expect(memory.response?.oomKilled).toBe(true);
    expect(decode(memory.response?.stdout)).not.toContain('never reached');
  });
});
