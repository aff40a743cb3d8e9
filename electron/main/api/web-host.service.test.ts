// Browser mode end to end: the real Loom service (real engine, real SQLite history) behind the
// real web host, driven by the renderer's WebSocket client. What the page sees, with no mocks.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LoomApiError, type LoomEvent, type RunSummary } from '../../../shared/api';
import { createWsClient, type WsLoomClient } from '../../../renderer/src/api/ws-client';
import { createLoomService, type LoomService } from '../app/service';
import { listManaged } from '../engine/pool/containers';
import { docker, requireEngineAndImages, waitFor } from '../engine/testing/test-support';
import { startWebHost, type WebHost } from './web-host';

let dir = '';
let service: LoomService;
let host: WebHost;
let client: WsLoomClient;
const events: LoomEvent[] = [];

const decode = (base64: string | undefined): string => Buffer.from(base64 ?? '', 'base64').toString('utf8');

beforeAll(async () => {
  await requireEngineAndImages();
  dir = await mkdtemp(join(tmpdir(), 'loom-web-service-'));
  service = await createLoomService({ historyPath: join(dir, 'history.sqlite') });
  host = await startWebHost({ backend: service });
  client = createWsClient({
    url: `ws://127.0.0.1:${host.port}/api?token=${host.token}`,
    createSocket: (url) => new WebSocket(url, { origin: `http://127.0.0.1:${host.port}` }),
  });
  client.onEvent((e) => events.push(e));
});

afterAll(async () => {
  client?.close();
  await host?.close();
  await service?.close();
  const left = (await listManaged(docker)).filter((c) => c.ownerPid === process.pid);
  if (dir) await rm(dir, { recursive: true, force: true });
  expect(left.map((c) => c.name)).toEqual([]);
});

describe('the real service over the web host', () => {
  it('reports the engine status', async () => {
    const status = await client.engineStatus();
    expect(status.ok).toBe(true);
    expect(status.version).toMatch(/^\d+\.\d+/);
  });

  it('runs a program: its summary, output events, run.finished, then the record in the history', async () => {
    const runId = randomUUID();
    expect(await client.startRun(runId, { command: ['python3', '-c', "print('hello over the wire')"] })).toMatchObject({ id: runId, status: 'running' });
    const summary = await waitFor<RunSummary>(`run ${runId} to finish`, async () =>
      events.find((e): e is Extract<LoomEvent, { type: 'run.finished' }> => e.type === 'run.finished' && e.run.id === runId)?.run,
    60_000);
    expect(summary).toMatchObject({ id: runId, status: 'ok', exitCode: 0 });
    const stdout = events.flatMap((e) => (e.type === 'run.event' && e.runId === runId ? [decode(e.event.stdout)] : [])).join('');
    expect(stdout).toBe('hello over the wire\n');

    const record = await client.getRun(runId);
    expect(record).toMatchObject({ id: runId, status: 'ok' });
    expect(decode(record?.response?.stdout)).toBe('hello over the wire\n');
    expect((await client.listRuns()).map((r) => r.id)).toContain(runId);
  });

  it('a flood of small writes arrives as few frames, every byte in order, all of it before run.finished', async () => {
    const runId = randomUUID();
    const lines = 40_000; // 4 MB in 40,000 flushed writes: under what the host holds for a client, so nothing may be left out
    const code = ['import sys', 'for i in range(' + lines + '):', "    sys.stdout.write(f'{i:09d} ' + 'x' * 89 + '\\n')", '    sys.stdout.flush()', "print('the end')"].join('\n');
    const frames: LoomEvent[] = [];
    const off = client.onEvent((e) => {
      if ((e.type === 'run.event' && e.runId === runId) || (e.type === 'run.finished' && e.run.id === runId) || (e.type === 'run.skipped' && e.runId === runId)) frames.push(e);
    });
    try {
      await client.startRun(runId, { command: ['python3', '-c', code] });
      await waitFor(`run ${runId} to finish`, async () => frames.some((e) => e.type === 'run.finished') || undefined, 120_000);
    } finally {
      off();
    }
    expect(frames.at(-1)).toMatchObject({ type: 'run.finished', run: { status: 'ok' } });
    expect(frames.filter((e) => e.type === 'run.skipped')).toEqual([]);
    const outputs = frames.filter((e): e is Extract<LoomEvent, { type: 'run.event' }> => e.type === 'run.event' && e.event.stdout !== undefined);
    const expected = Array.from({ length: lines }, (_, i) => `${String(i).padStart(9, '0')} ${'x'.repeat(89)}\n`).join('') + 'the end\n';
    expect(outputs.map((e) => decode(e.event.stdout)).join('')).toBe(expected);
    // 40,001 writes, merged by the service: a batch per 30 ms, or sooner once it holds 256 KB
    // (plus the chunk that took it there), so that the page parses each in one short task.
    expect(outputs.length).toBeLessThan(1000);
    expect(Math.max(...outputs.map((e) => Buffer.from(e.event.stdout ?? '', 'base64').length))).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
  });

  it("the engine's ValidationError arrives with its name, message and fields", async () => {
    const request = { command: ['true'], config: { resourceLimits: { memoryMb: '-5' } } };
    const direct = await service.startRun(randomUUID(), request).then(
      () => null,
      (e: unknown) => e as Error & { field: string },
    );
    expect(direct?.name).toBe('ValidationError');
    const err = await client.startRun(randomUUID(), request).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LoomApiError);
    const remote = err as LoomApiError;
    expect(remote.name).toBe('ValidationError');
    expect(remote.message).toBe(direct?.message);
    expect(remote.fields['field']).toBe('config.resource_limits.memory_mb');
  });

  it('lists the examples', async () => {
    const examples = await client.listExamples();
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toMatchObject({ id: expect.any(String), title: expect.any(String) });
  });
});
