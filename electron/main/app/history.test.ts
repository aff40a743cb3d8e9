// The run history on a real SQLite file: round trips, order, restarts, crashes, big responses.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../shared/api';
import type { ExecuteResponseJson, SpanJson } from '../../../shared/gen/loom/v1/docker_pb';
import { RunHistory } from './history';

let dir: string;
let path: string;
const open: RunHistory[] = [];

const openHistory = (options?: ConstructorParameters<typeof RunHistory>[1]): RunHistory => {
  const h = new RunHistory(path, options);
  open.push(h);
  return h;
};

const summary = (id: string, startedAt: number): RunSummary => ({ id, startedAt, status: 'running', runtime: 'python', title: `run ${id}` });
const request = { command: ['python3', '-c', "print('hi')"] };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loom-history-test-'));
  path = join(dir, 'history.sqlite');
});

afterEach(async () => {
  for (const h of open.splice(0)) h.close();
  await rm(dir, { recursive: true, force: true });
});

describe('RunHistory', () => {
  it('stores a run from start to finish and gives it back', () => {
    const h = openHistory();
    h.insertRunning(summary('a', 1000), request);
    expect(h.get('a')).toEqual({ ...summary('a', 1000), request });

    const response: ExecuteResponseJson = { exitCode: 3, stdout: Buffer.from('hi\n').toString('base64'), containerId: 'c1', spans: [] };
    const finished = h.finish('a', { status: 'failed', exitCode: 3, durationMs: 12.5, containerCreated: true, response }, 2000);
    const expected = { ...summary('a', 1000), status: 'failed', exitCode: 3, durationMs: 12.5, containerCreated: true, finishedAt: 2000 };
    expect(finished).toEqual(expected);
    expect(h.get('a')).toEqual({ ...expected, request, response });
    expect(h.list()).toEqual([expected]);
  });

  it('keeps the error of a run Loom could not start', () => {
    const h = openHistory();
    h.insertRunning(summary('e', 1), request);
    const error = { name: 'PackageInstallError', message: 'pip failed', installer: 'pip' };
    h.finish('e', { status: 'error', durationMs: 5, error });
    const record = h.get('e');
    expect(record?.status).toBe('error');
    expect(record?.error).toEqual(error);
    expect(record?.response).toBeUndefined();
    expect(record?.exitCode).toBeUndefined();
  });

  it('lists newest first, up to a limit, and deletes', () => {
    const h = openHistory();
    for (const [id, at] of [['old', 100], ['new', 300], ['mid', 200]] as const) h.insertRunning(summary(id, at), request);
    expect(h.list().map((r) => r.id)).toEqual(['new', 'mid', 'old']);
    expect(h.list(2).map((r) => r.id)).toEqual(['new', 'mid']);
    h.delete('mid');
    expect(h.get('mid')).toBeNull();
    expect(h.list().map((r) => r.id)).toEqual(['new', 'old']);
    expect(h.finish('mid', { status: 'ok' })).toBeNull();
    expect(h.get('nope')).toBeNull();
  });

  it('survives close and reopen; a run left running is interrupted', () => {
    const first = openHistory();
    first.insertRunning(summary('done', 1), request);
    first.finish('done', { status: 'ok', exitCode: 0, durationMs: 3 }, 5);
    first.insertRunning(summary('cut', 2), request);
    first.close();

    const second = openHistory();
    expect(second.get('done')).toMatchObject({ status: 'ok', exitCode: 0, finishedAt: 5 });
    expect(second.get('cut')).toMatchObject({ status: 'interrupted', request });
    expect(second.list().map((r) => [r.id, r.status])).toEqual([
      ['cut', 'interrupted'],
      ['done', 'ok'],
    ]);
  });

  it('marks running rows interrupted when the process that wrote them was killed', () => {
    openHistory().close();
    // A real crash: another process starts a run in the file and dies without closing it.
    const script = `
      const db = require('better-sqlite3')(${JSON.stringify(path)});
      db.prepare("INSERT INTO runs (id, started_at, status, runtime, title, request_json) VALUES ('k', 1, 'running', 'node', 't', '{}')").run();
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(openHistory().get('k')?.status).toBe('interrupted');
  });

  it('creates the schema with a user_version migration, in WAL mode', () => {
    openHistory().close();
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(1);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
    // Reopening an up-to-date file migrates nothing and loses nothing.
    const h = openHistory();
    h.insertRunning(summary('x', 1), request);
    h.close();
    expect(openHistory().get('x')?.id).toBe('x');
  });

  it('refuses a file from a newer build instead of misreading it', () => {
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openHistory()).toThrow(/schema version 99/);
  });

  it('drops spans (host spans last) when a response is over the size cap, and counts them', () => {
    const h = openHistory({ maxResponseBytes: 20_000 });
    const span = (i: number, source: SpanJson['source']): SpanJson => ({
      traceId: 'a'.repeat(32),
      spanId: i.toString(16).padStart(16, '0'),
      name: `span-${i}`,
      attributes: { payload: 'x'.repeat(100) },
      source,
    });
    const containerSpans = Array.from({ length: 400 }, (_, i) => span(i + 1, 'SPAN_SOURCE_CONTAINER'));
    // The host's root span ends last, so it comes last: it must survive anyway.
    const root = span(10_000, 'SPAN_SOURCE_HOST');
    const response: ExecuteResponseJson = { exitCode: 0, stdout: Buffer.from('out').toString('base64'), spans: [...containerSpans, root], droppedSpans: 2 };
    h.insertRunning(summary('big', 1), request);
    h.finish('big', { status: 'ok', exitCode: 0, response });

    const stored = h.get('big')?.response;
    const kept = stored?.spans ?? [];
    expect(JSON.stringify(stored).length).toBeLessThanOrEqual(20_000);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(401);
    expect(kept.at(-1)?.name).toBe('span-10000');
    expect(kept.slice(0, 3).map((s) => s.name)).toEqual(['span-1', 'span-2', 'span-3']);
    expect(stored?.droppedSpans).toBe(2 + 401 - kept.length);
    expect(stored?.stdout).toBe(response.stdout);

    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.prepare("SELECT trace_truncated FROM runs WHERE id = 'big'").pluck().get()).toBe(1);
    } finally {
      raw.close();
    }
  });

  it('stores a response under the cap exactly as given', () => {
    const h = openHistory();
    const response: ExecuteResponseJson = { exitCode: 0, spans: [{ name: 'one', source: 'SPAN_SOURCE_CONTAINER' }], timings: { runMs: 4 } };
    h.insertRunning(summary('s', 1), request);
    h.finish('s', { status: 'ok', exitCode: 0, response });
    expect(h.get('s')?.response).toEqual(response);
  });
});
