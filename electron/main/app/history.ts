// The run history: one SQLite row per run, kept across restarts of the app. The request and
// the response are stored in their proto3 JSON form, exactly as the UI receives them. The SQL
// is plain enough for both drivers in ./sqlite (better-sqlite3 in Node, node:sqlite in Electron).
import type { RunRecord, RunStatus, RunSummary, SerializedError, StoredArtifact } from '../../../shared/api';
import type { ExecuteRequestJson, ExecuteResponseJson, SpanJson } from '../../../shared/gen/loom/v1/docker_pb';
import { inTransaction, openSqlite, type SqliteDatabase, type SqliteDriver, type SqliteStatement } from './sqlite';

/** Artifacts bigger than this are listed in the history with a note instead of their bytes. */
export const DEFAULT_MAX_ARTIFACT_BYTES = 4 * 1024 * 1024;

/** Above this a response loses spans (never output) until it fits: SQLite rows are read whole. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export interface RunOutcome {
  status: Exclude<RunStatus, 'running' | 'interrupted'>;
  exitCode?: number;
  durationMs?: number;
  containerCreated?: boolean;
  response?: ExecuteResponseJson;
  error?: SerializedError;
}

export interface RunHistoryOptions {
  maxResponseBytes?: number;
  /** The SQLite driver; by default the one this process can load (see ./sqlite). */
  driver?: SqliteDriver;
}

// Each entry moves the schema one version up; user_version records how far a file has come,
// so a file written by an older build is upgraded in place.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id                TEXT PRIMARY KEY,
     started_at        INTEGER NOT NULL,
     finished_at       INTEGER,
     status            TEXT NOT NULL,
     exit_code         INTEGER,
     duration_ms       REAL,
     container_created INTEGER,
     runtime           TEXT NOT NULL,
     title             TEXT NOT NULL,
     request_json      TEXT NOT NULL,
     response_json     TEXT,
     error_json        TEXT,
     trace_truncated   INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX runs_by_start ON runs (started_at DESC);`,
  `CREATE TABLE artifacts (
     run_id  TEXT NOT NULL,
     path    TEXT NOT NULL,
     mime    TEXT NOT NULL,
     size    INTEGER NOT NULL,
     data    BLOB,
     note    TEXT,
     PRIMARY KEY (run_id, path)
   );`,
];

interface SummaryRow {
  id: string;
  started_at: number;
  finished_at: number | null;
  status: RunStatus;
  exit_code: number | null;
  duration_ms: number | null;
  container_created: number | null;
  runtime: string;
  title: string;
}

interface RecordRow extends SummaryRow {
  request_json: string;
  response_json: string | null;
  error_json: string | null;
}

const SUMMARY_COLUMNS = 'id, started_at, finished_at, status, exit_code, duration_ms, container_created, runtime, title';

export class RunHistory {
  private readonly db: SqliteDatabase;
  /** Each statement prepared once: a run writes two rows, and preparing them cost more than that. */
  private readonly statements = new Map<string, SqliteStatement>();
  private readonly maxResponseBytes: number;
  // node:sqlite throws on a second close(); better-sqlite3 does not. Tracked here for both.
  private open = true;

  constructor(
    private readonly path: string,
    options: RunHistoryOptions = {},
  ) {
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.db = openSqlite(path, options.driver);
    try {
      // WAL: the UI reads the list while a run's row is written, without either waiting.
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec('PRAGMA busy_timeout = 5000');
      // Commits without an fsync each (WAL stays consistent after a crash; a power cut may lose
      // the last runs' rows): every run commits twice.
      this.db.exec('PRAGMA synchronous = NORMAL');
      this.migrate();
      // A row still running belongs to a process that died mid-run: nothing will finish it.
      this.statement("UPDATE runs SET status = 'interrupted' WHERE status = 'running'").run();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private statement(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  insertRunning(summary: RunSummary, request: ExecuteRequestJson): void {
    this.statement(
      `INSERT INTO runs (id, started_at, status, runtime, title, request_json)
       VALUES (@id, @startedAt, 'running', @runtime, @title, @request)`,
    ).run({ id: summary.id, startedAt: summary.startedAt, runtime: summary.runtime, title: summary.title, request: JSON.stringify(request) });
  }

  /** Records how a run ended; returns its summary (null for an unknown or deleted run). */
  finish(id: string, outcome: RunOutcome, finishedAt = Date.now()): RunSummary | null {
    const stored = outcome.response ? fitResponse(outcome.response, this.maxResponseBytes) : undefined;
    this.statement(
      `UPDATE runs SET finished_at = @finishedAt, status = @status, exit_code = @exitCode, duration_ms = @durationMs,
         container_created = @containerCreated, response_json = @response, error_json = @error, trace_truncated = @truncated
       WHERE id = @id`,
    ).run({
      id,
      finishedAt,
      status: outcome.status,
      exitCode: outcome.exitCode ?? null,
      durationMs: outcome.durationMs ?? null,
      containerCreated: outcome.containerCreated === undefined ? null : Number(outcome.containerCreated),
      response: stored?.json ?? null,
      error: outcome.error ? JSON.stringify(outcome.error) : null,
      truncated: Number(stored?.truncated ?? false),
    });
    const row = this.statement(`SELECT ${SUMMARY_COLUMNS} FROM runs WHERE id = ?`).get(id) as SummaryRow | undefined;
    return row ? toSummary(row) : null;
  }

  /** Newest first. */
  list(limit = 500): RunSummary[] {
    const rows = this.statement(`SELECT ${SUMMARY_COLUMNS} FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?`).all(limit) as SummaryRow[];
    return rows.map(toSummary);
  }

  get(id: string): RunRecord | null {
    const row = this.statement(`SELECT ${SUMMARY_COLUMNS}, request_json, response_json, error_json FROM runs WHERE id = ?`).get(id) as
      | RecordRow
      | undefined;
    if (!row) return null;
    const record: RunRecord = { ...toSummary(row), request: JSON.parse(row.request_json) as ExecuteRequestJson };
    if (row.response_json !== null) record.response = JSON.parse(row.response_json) as ExecuteResponseJson;
    if (row.error_json !== null) record.error = JSON.parse(row.error_json) as SerializedError;
    const artifacts = this.artifactsOf(id);
    if (artifacts.length) record.artifacts = artifacts;
    return record;
  }

  delete(id: string): void {
    inTransaction(this.db, () => {
      this.statement('DELETE FROM artifacts WHERE run_id = ?').run(id);
      this.statement('DELETE FROM runs WHERE id = ?').run(id);
    });
  }

  /** Keeps a run's artifact: its bytes when given (the caller kept them under the cap), else the note. */
  addArtifact(runId: string, artifact: { path: string; mime: string; size: number; data?: Uint8Array; note?: string }): void {
    this.statement('INSERT OR REPLACE INTO artifacts (run_id, path, mime, size, data, note) VALUES (@runId, @path, @mime, @size, @data, @note)')
      .run({ runId, path: artifact.path, mime: artifact.mime, size: artifact.size, data: artifact.data ? Buffer.from(artifact.data) : null, note: artifact.note ?? null });
  }

  private artifactsOf(runId: string): StoredArtifact[] {
    const rows = this.statement('SELECT path, mime, size, data, note FROM artifacts WHERE run_id = ? ORDER BY path').all(runId) as {
      path: string;
      mime: string;
      size: number;
      data: Uint8Array | null;
      note: string | null;
    }[];
    return rows.map((r) => ({
      path: r.path,
      mime: r.mime,
      size: r.size,
      ...(r.data ? { data: Buffer.from(r.data).toString('base64') } : {}),
      ...(r.note ? { note: r.note } : {}),
    }));
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }

  private migrate(): void {
    const { user_version: current } = this.db.prepare('PRAGMA user_version').get() as { user_version: number };
    if (current > MIGRATIONS.length) {
      throw new Error(`the run history at ${this.path} has schema version ${current}, newer than this build knows (${MIGRATIONS.length})`);
    }
    MIGRATIONS.slice(current).forEach((sql, i) => {
      inTransaction(this.db, () => {
        this.db.exec(sql);
        this.db.exec(`PRAGMA user_version = ${current + i + 1}`);
      });
    });
  }
}

function toSummary(row: SummaryRow): RunSummary {
  const summary: RunSummary = { id: row.id, startedAt: row.started_at, status: row.status, runtime: row.runtime, title: row.title };
  if (row.finished_at !== null) summary.finishedAt = row.finished_at;
  if (row.exit_code !== null) summary.exitCode = row.exit_code;
  if (row.duration_ms !== null) summary.durationMs = row.duration_ms;
  if (row.container_created !== null) summary.containerCreated = row.container_created === 1;
  return summary;
}

/**
 * The response as stored: whole when it fits in maxBytes, else with spans dropped until it does
 * (counted in droppedSpans, as the engine counts its own drops). Host spans are kept first: they
 * are few and carry the tree's root, without which the program's spans would float unattached.
 * Output is never cut here; the engine already caps it per request.
 */
export function fitResponse(response: ExecuteResponseJson, maxBytes: number): { json: string; truncated: boolean } {
  const whole = JSON.stringify(response);
  const spans = response.spans ?? [];
  if (Buffer.byteLength(whole) <= maxBytes || spans.length === 0) return { json: whole, truncated: false };

  // Room left by the response without its spans; the droppedSpans count may grow by a few digits.
  const bare = JSON.stringify({ ...response, spans: [], droppedSpans: (response.droppedSpans ?? 0) + spans.length });
  let room = maxBytes - Buffer.byteLength(bare);
  const keep = new Set<SpanJson>();
  const byPriority = [...spans.filter((s) => s.source === 'SPAN_SOURCE_HOST'), ...spans.filter((s) => s.source !== 'SPAN_SOURCE_HOST')];
  for (const span of byPriority) {
    const size = Buffer.byteLength(JSON.stringify(span)) + 1;
    if (size > room) break;
    room -= size;
    keep.add(span);
  }
  const kept = spans.filter((s) => keep.has(s));
  const json = JSON.stringify({ ...response, spans: kept, droppedSpans: (response.droppedSpans ?? 0) + spans.length - kept.length });
  return { json, truncated: true };
}
