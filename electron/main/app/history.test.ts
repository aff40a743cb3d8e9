// The run history on a real SQLite file: round trips, order, restarts, crashes, big responses;
// once per driver: better-sqlite3 here on Node 20, and node:sqlite, which is what Electron's main
// process uses, on a Node of the version Electron embeds (Node 20 has no node:sqlite). That half
// runs in a child vitest under that Node (see the end of this file), so it runs on every
// `npm test` instead of being skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JsonTestResults } from 'vitest/reporters';
import type { RunSummary } from '../../../shared/api';
import type { ExecuteResponseJson, SpanJson } from '../../../shared/gen/loom/v1/docker_pb';
import { RunHistory, type RunHistoryOptions } from './history';
import { defaultDriver, inTransaction, openSqlite, type SqliteDatabase, type SqliteDriver } from './sqlite';

let dir: string;
let path: string;
const open: RunHistory[] = [];

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

/** Runs `body` on the history file opened read-only, outside RunHistory. */
function withRaw<T>(driver: SqliteDriver, body: (raw: SqliteDatabase) => T): T {
  const raw = openSqlite(path, driver, { readonly: true });
  try {
    return body(raw);
  } finally {
    raw.close();
  }
}

/** A script for `node -e` that opens the history file with `driver` as `db`. */
const openInChild = (driver: SqliteDriver): string =>
  driver === 'node:sqlite'
    ? `const db = new (require('node:sqlite').DatabaseSync)(${JSON.stringify(path)});`
    : `const db = require('better-sqlite3')(${JSON.stringify(path)});`;

const suiteTitle = (driver: SqliteDriver): string => `RunHistory on ${driver}`;

/** The same tests for each driver. */
function historySuite(driver: SqliteDriver): void {
  describe(suiteTitle(driver), () => {
    const openHistory = (options?: RunHistoryOptions): RunHistory => {
      const h = new RunHistory(path, { driver, ...options });
      open.push(h);
      return h;
    };

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
        ${openInChild(driver)}
        db.prepare("INSERT INTO runs (id, started_at, status, runtime, title, request_json) VALUES ('k', 1, 'running', 'node', 't', '{}')").run();
        process.kill(process.pid, 'SIGKILL');`;
      const child = spawnSync(process.execPath, ['-e', script], { cwd: process.cwd(), encoding: 'utf8' });
      expect(child.signal, child.stderr).toBe('SIGKILL');
      expect(openHistory().get('k')?.status).toBe('interrupted');
    });

    it('creates the schema with a user_version migration, in WAL mode', () => {
      openHistory().close();
      withRaw(driver, (raw) => {
        expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 });
        expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      });
      // Reopening an up-to-date file migrates nothing and loses nothing.
      const h = openHistory();
      h.insertRunning(summary('x', 1), request);
      h.close();
      expect(openHistory().get('x')?.id).toBe('x');
    });

    it('refuses a file from a newer build instead of misreading it', () => {
      const raw = openSqlite(path, driver);
      raw.exec('PRAGMA user_version = 99');
      raw.close();
      expect(() => openHistory()).toThrow(/schema version 99/);
    });

    it('keeps a run\'s artifacts, bytes or a note, and deletes them with the run', () => {
      const h = openHistory();
      h.insertRunning(summary('a', 1), request);
      h.addArtifact('a', { path: 'outputs/a.txt', mime: 'text/plain', size: 2, data: Buffer.from('hi') });
      h.addArtifact('a', { path: 'outputs/big.bin', mime: 'application/octet-stream', size: 9e6, note: 'too large to keep' });
      expect(h.get('a')?.artifacts).toEqual([
        { path: 'outputs/a.txt', mime: 'text/plain', size: 2, data: Buffer.from('hi').toString('base64') },
        { path: 'outputs/big.bin', mime: 'application/octet-stream', size: 9e6, note: 'too large to keep' },
      ]);
      h.delete('a');
      h.insertRunning(summary('a', 2), request);
      expect(h.get('a')?.artifacts).toBeUndefined();
      h.close();
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

      withRaw(driver, (raw) => expect(raw.prepare("SELECT trace_truncated FROM runs WHERE id = 'big'").get()).toEqual({ trace_truncated: 1 }));
    });

    it('stores a response under the cap exactly as given', () => {
      const h = openHistory();
      const response: ExecuteResponseJson = { exitCode: 0, spans: [{ name: 'one', source: 'SPAN_SOURCE_CONTAINER' }], timings: { runMs: 4 } };
      h.insertRunning(summary('s', 1), request);
      h.finish('s', { status: 'ok', exitCode: 0, response });
      expect(h.get('s')?.response).toEqual(response);
    });

    it('commits a transaction that returns and rolls back one that throws', () => {
      const db = openSqlite(path, driver);
      try {
        db.exec('CREATE TABLE t (n INTEGER)');
        expect(inTransaction(db, () => db.prepare('INSERT INTO t VALUES (?)').run(1))).toBeDefined();
        expect(() =>
          inTransaction(db, () => {
            db.prepare('INSERT INTO t VALUES (?)').run(2);
            throw new Error('step failed');
          }),
        ).toThrow('step failed');
        expect(db.prepare('SELECT n FROM t').all()).toEqual([{ n: 1 }]);
        // Named values without their '@', as the history binds them, on both drivers.
        db.prepare('INSERT INTO t VALUES (@n)').run({ n: 3 });
        expect(db.prepare('SELECT count(*) AS c FROM t').get()).toEqual({ c: 2 });
      } finally {
        db.close();
      }
    });
  });
}

// Set in the child vitest that runs the node:sqlite half: that child registers nothing else, so
// it neither spawns a child of its own nor runs the better-sqlite3 half (whose addon is built for
// Node 20's ABI and cannot load in Node 24).
const NODE_SQLITE_CHILD = 'LOOM_HISTORY_NODE_SQLITE_CHILD';

if (process.env[NODE_SQLITE_CHILD] === '1') {
  historySuite('node:sqlite');
} else {
  describe('defaultDriver', () => {
    it('is node:sqlite inside Electron and better-sqlite3 in plain Node', () => {
      expect(defaultDriver({ node: '24.11.1', electron: '40.8.5', chrome: '144.0.7559.60' })).toBe('node:sqlite');
      expect(defaultDriver({ node: '20.20.2' })).toBe('better-sqlite3');
      // This test process is plain Node.
      expect(defaultDriver()).toBe('better-sqlite3');
    });
  });

  historySuite('better-sqlite3');

  describe(`${suiteTitle('node:sqlite')}, on the Node Electron embeds`, () => {
    const thisFile = fileURLToPath(import.meta.url);
    const root = resolve(dirname(thisFile), '../../..');

    /** The names of the tests under the suite titled `title` among `tasks`, at any depth. */
    const testNames = (tasks: readonly TaskLike[], title: string, inside = false): string[] =>
      tasks.flatMap((t) => {
        if (t.type === 'suite') return testNames(t.tasks, title, inside || t.name === title);
        return inside ? [t.name] : [];
      });

    it('passes every test of the better-sqlite3 suite, run by a child vitest under that Node', ({ task }) => {
      const expected = testNames(task.file.tasks, suiteTitle('better-sqlite3'));
      expect(expected.length).toBeGreaterThan(0);

      // Never a skip: without that Node the half of the history Electron runs goes untested.
      const fetch = spawnSync(process.execPath, [join(root, 'scripts/electron-node.mjs')], { cwd: root, encoding: 'utf8', timeout: 90_000 });
      if (fetch.status !== 0) {
        throw new Error(
          `No Node of the version Electron embeds to test node:sqlite on (${fetch.error?.message ?? fetch.stderr.trim()}). ` +
            'It is fetched from the npm registry into node_modules/.cache/electron-node/ by `node scripts/electron-node.mjs`, on linux-x64 only: run that with the registry reachable.',
        );
      }
      const node = fetch.stdout.trim();

      const reportFile = join(dir, 'node-sqlite-report.json');
      const env: NodeJS.ProcessEnv = { ...process.env, [NODE_SQLITE_CHILD]: '1' };
      // This process's vitest worker variables would confuse the child's vitest, and CI's report
      // path would have the child overwrite the report of the whole run.
      for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'LOOM_VITEST_REPORT') delete env[key];
      const child = spawnSync(
        node,
        [join(root, 'node_modules/vitest/vitest.mjs'), 'run', relative(root, thisFile), '--reporter=json', `--outputFile=${reportFile}`],
        { cwd: root, env, encoding: 'utf8', timeout: 90_000 },
      );
      const childOutput = `child vitest on ${node}: status ${child.status}, signal ${child.signal}, ${child.error?.message ?? ''}\n${child.stderr}`;
      expect(existsSync(reportFile), childOutput).toBe(true);

      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonTestResults;
      const results = report.testResults.flatMap((file) => file.assertionResults);
      const notPassed = results.filter((r) => r.status !== 'passed').map((r) => `${r.fullName}: ${r.status}\n${(r.failureMessages ?? []).join('\n')}`);
      expect(notPassed, childOutput).toEqual([]);
      // The same tests by name, and as many: none left out, none added, none skipped.
      expect(results.map((r) => [...r.ancestorTitles, r.title].join(' > ')).sort()).toEqual(
        expected.map((name) => `${suiteTitle('node:sqlite')} > ${name}`).sort(),
      );
      expect(report.testResults.map((file) => [file.status, file.message]), childOutput).toEqual([['passed', '']]);
      expect(child.status, childOutput).toBe(0);
      // A fetch takes about 5 s and the child about 1 s; the spawns block this worker, so their own
      // timeouts (90 s each) are what stops a hang, inside this test's.
    }, 200_000);
  });
}

/** The part of vitest's task tree `testNames` reads. */
type TaskLike = { type: 'suite'; name: string; tasks: readonly TaskLike[] } | { type: 'test'; name: string };
