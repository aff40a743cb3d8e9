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
