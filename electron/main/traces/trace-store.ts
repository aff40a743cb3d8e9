// The trace store: every span received over OTLP, imported from a file or recorded by a run,
// kept in the run history's SQLite file (one span a row, one summary row a trace), bounded by
// age and size. Spans are stored as they come; the tree is built when a trace is read, so a
// child that arrives before its parent (a sandbox run under an agent's span that is still
// open) nests under it as soon as the parent arrives, whatever the order.
//
// The tables carry their own schema version (trace_meta) instead of the history's
// user_version: the run history and the trace store evolve independently in one file.
import type { TraceHead, TraceQuery, TraceRecord, TraceSpan, TraceSummary } from '../../../shared/traces/types';
import { treeOrder, type LightRow } from './tree-order';
import { inTransaction, openSqlite, type SqliteDatabase, type SqliteDriver, type SqliteStatement, type SqlValue } from '../app/sqlite';
import { spansFromRows, storedSpanJson, type SpanRowColumns } from './span-row';

export interface TraceStoreOptions {
  driver?: SqliteDriver;
  /** Traces not updated for this long are removed. Default 7 days. */
  maxAgeMs?: number;
  /** Spans kept over all traces; the least recently updated traces go first. Default 2,000,000. */
  maxSpans?: number;
  /** Bytes of span data (JSON and text columns) kept over all traces. Default 1 GiB. */
  maxBytes?: number;
  /** Spans kept per trace; later ones are counted as dropped. Default 250,000 (a run's own limit). */
  maxSpansPerTrace?: number;
  now?: () => number;
}

export const DEFAULT_TRACE_RETENTION = {
  maxAgeMs: 7 * 24 * 3600_000,
  maxSpans: 2_000_000,
  maxBytes: 1024 * 1024 * 1024,
  maxSpansPerTrace: 250_000,
} as const;

export interface AddResult {
  stored: number;
  /** Over the per-trace limit, or already stored (same trace and span id). */
  dropped: number;
  traceIds: string[];
}

// 2: trace_spans has parent_span_id, start_ns and end_ns (a trace's tree order and time bounds
// without parsing its spans' JSON), and span_json leaves out what the columns and defaults say.
const SCHEMA_VERSION = 2;
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS trace_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS trace_spans (
    trace_id       TEXT NOT NULL,
    span_id        TEXT NOT NULL,
    parent_span_id TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL,
    service        TEXT NOT NULL,
    start_ms       REAL NOT NULL,
    start_ns       INTEGER NOT NULL DEFAULT 0,
    end_ns         INTEGER NOT NULL DEFAULT 0,
    span_json      TEXT NOT NULL,
    UNIQUE (trace_id, span_id)
  );
  CREATE TABLE IF NOT EXISTS traces (
    trace_id      TEXT PRIMARY KEY,
    root_name     TEXT NOT NULL,
    root_service  TEXT NOT NULL,
    root_start_ms REAL NOT NULL,
    complete      INTEGER NOT NULL,
    services      TEXT NOT NULL,
    start_ms      REAL NOT NULL,
    end_ms        REAL NOT NULL,
    span_count    INTEGER NOT NULL,
    error_count   INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    dropped       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS traces_by_update ON traces (updated_at);
  CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ms DESC);
`;

interface TraceRow {
  trace_id: string;
  root_name: string;
  root_service: string;
  root_start_ms: number;
  complete: number;
  services: string;
  start_ms: number;
  end_ms: number;
  span_count: number;
  error_count: number;
  bytes: number;
  dropped: number;
  updated_at: number;
}

const MAX_LIST = 1000;
/** Span rows per INSERT statement: 9 values each, far under SQLite's 32,766 parameters. */
const INSERT_CHUNK = 128;
/** Retention by size is checked at most this often while spans pour in. */
const PRUNE_EVERY_MS = 1000;

export class TraceStore {
  private readonly db: SqliteDatabase;
  private readonly opts: Required<Omit<TraceStoreOptions, 'driver'>>;
  private open = true;
  private lastPrune = 0;
  private readonly statements: { selectTrace: SqliteStatement; upsertTrace: SqliteStatement };
  private readonly inserts = new Map<number, SqliteStatement>();

  constructor(
    readonly path: string,
    options: TraceStoreOptions = {},
  ) {
    this.opts = {
      maxAgeMs: options.maxAgeMs ?? DEFAULT_TRACE_RETENTION.maxAgeMs,
      maxSpans: options.maxSpans ?? DEFAULT_TRACE_RETENTION.maxSpans,
      maxBytes: options.maxBytes ?? DEFAULT_TRACE_RETENTION.maxBytes,
      maxSpansPerTrace: options.maxSpansPerTrace ?? DEFAULT_TRACE_RETENTION.maxSpansPerTrace,
      now: options.now ?? Date.now,
    };
    this.db = openSqlite(path, options.driver);
    try {
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec('PRAGMA busy_timeout = 5000');
      // Commits without an fsync each (WAL stays consistent after a crash; a power cut may lose
      // the last commits): the receiver commits once a request, hundreds of times a second.
      this.db.exec('PRAGMA synchronous = NORMAL');
      inTransaction(this.db, () => {
        this.db.exec(SCHEMA);
        const row = this.db.prepare("SELECT value FROM trace_meta WHERE key = 'version'").get() as { value: string } | undefined;
        const version = row ? Number(row.value) : 0;
        if (version > SCHEMA_VERSION) throw new Error(`the trace store in ${path} has schema version ${version}, newer than this build knows (${SCHEMA_VERSION})`);
        if (version === 1) {
          this.db.exec(`
            ALTER TABLE trace_spans ADD COLUMN parent_span_id TEXT NOT NULL DEFAULT '';
            ALTER TABLE trace_spans ADD COLUMN start_ns INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE trace_spans ADD COLUMN end_ns INTEGER NOT NULL DEFAULT 0;
            UPDATE trace_spans SET
              parent_span_id = COALESCE(json_extract(span_json, '$.parentSpanId'), ''),
              start_ns = CAST(json_extract(span_json, '$.startTimeUnixNano') AS INTEGER),
              end_ns = CAST(json_extract(span_json, '$.endTimeUnixNano') AS INTEGER);
          `);
        }
        if (version < SCHEMA_VERSION) this.db.prepare("INSERT OR REPLACE INTO trace_meta (key, value) VALUES ('version', ?)").run(String(SCHEMA_VERSION));
      });
      this.statements = {
        selectTrace: this.db.prepare('SELECT * FROM traces WHERE trace_id = ?'),
        upsertTrace: this.db.prepare(
          `INSERT OR REPLACE INTO traces (trace_id, root_name, root_service, root_start_ms, complete, services, start_ms, end_ms, span_count, error_count, bytes, dropped, updated_at)
           VALUES (@trace_id, @root_name, @root_service, @root_start_ms, @complete, @services, @start_ms, @end_ms, @span_count, @error_count, @bytes, @dropped, @updated_at)`,
        ),
      };
      this.prune();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * Stores spans (of any traces) in one transaction: rows go in INSERT statements of up to
   * INSERT_CHUNK rows each (one call into SQLite per chunk, not per span), and each trace's
   * summary row is read and written once per call, however many of its spans came.
   */
  add(spans: readonly TraceSpan[]): AddResult {
    const byTrace = new Map<string, TraceSpan[]>();
    for (const span of spans) {
      let group = byTrace.get(span.traceId);
      if (!group) byTrace.set(span.traceId, (group = []));
      group.push(span);
    }
    const now = this.opts.now();
    let stored = 0;
    let dropped = 0;
    inTransaction(this.db, () => {
      for (const [traceId, group] of byTrace) {
        const existing = this.statements.selectTrace.get(traceId) as TraceRow | undefined;
        const row: TraceRow = existing ?? {
          trace_id: traceId,
          root_name: '',
          root_service: '',
          root_start_ms: Infinity,
          complete: 0,
          services: '[]',
          start_ms: Infinity,
          end_ms: -Infinity,
          span_count: 0,
          error_count: 0,
          bytes: 0,
          dropped: 0,
          updated_at: now,
        };
        const services = new Set(JSON.parse(row.services) as string[]);
        let at = 0;
        while (at < group.length && row.span_count < this.opts.maxSpansPerTrace) {
          const chunk = group.slice(at, at + Math.min(INSERT_CHUNK, this.opts.maxSpansPerTrace - row.span_count));
          at += chunk.length;
          const values: SqlValue[] = [];
          const sizes: number[] = [];
          const starts: number[] = [];
          for (const span of chunk) {
            const json = storedSpanJson(span);
            const startMs = nanosToMs(span.startTimeUnixNano);
            // What the row holds: the JSON and the text columns.
            sizes.push(json.length + traceId.length + span.spanId.length + span.parentSpanId.length + span.name.length + span.service.length);
            starts.push(startMs);
            // The nanoseconds go in as text; the INTEGER columns' affinity makes them exact 64-bit integers.
            values.push(traceId, span.spanId, span.parentSpanId, span.name, span.service, startMs, span.startTimeUnixNano, span.endTimeUnixNano, json);
          }
          // RETURNING names the rows really inserted: a span already stored (a retried export)
          // or sent twice in this chunk is ignored and must not count again.
          const inserted = this.insertStatement(chunk.length).all(...values) as { span_id: string }[];
          const fresh = inserted.length === chunk.length ? null : new Set(inserted.map((r) => r.span_id));
          dropped += chunk.length - inserted.length;
          for (let i = 0; i < chunk.length; i++) {
            const span = chunk[i] as TraceSpan;
            if (fresh && !fresh.delete(span.spanId)) continue;
            const startMs = starts[i] as number;
            stored++;
            row.span_count++;
            row.bytes += sizes[i] as number;
            if (span.status === 'error') row.error_count++;
            if (startMs > 0) row.start_ms = Math.min(row.start_ms, startMs);
            row.end_ms = Math.max(row.end_ms, nanosToMs(span.endTimeUnixNano));
            if (span.service) services.add(span.service);
            // The root names the trace; until it arrives, the earliest span stands in for it.
            const isRoot = span.parentSpanId === '';
            if ((isRoot && !row.complete) || (!row.complete && startMs < row.root_start_ms)) {
              row.root_name = span.name;
              row.root_service = span.service;
              row.root_start_ms = startMs;
              if (isRoot) row.complete = 1;
            }
          }
        }
        // Past the per-trace limit: counted, not stored.
        row.dropped += group.length - at;
        dropped += group.length - at;
        if (!Number.isFinite(row.start_ms)) row.start_ms = 0;
        if (!Number.isFinite(row.end_ms)) row.end_ms = row.start_ms;
        if (!Number.isFinite(row.root_start_ms)) row.root_start_ms = 0;
        row.services = JSON.stringify([...services].sort());
        row.updated_at = now;
        this.statements.upsertTrace.run(row as unknown as Record<string, SqlValue>);
      }
    });
    if (now - this.lastPrune >= PRUNE_EVERY_MS) this.prune();
    return { stored, dropped, traceIds: [...byTrace.keys()] };
  }

  /** INSERT ... RETURNING of `rows` span rows, prepared once per row count. */
  private insertStatement(rows: number): SqliteStatement {
    let statement = this.inserts.get(rows);
    if (!statement) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      statement = this.db.prepare(
        `INSERT OR IGNORE INTO trace_spans (trace_id, span_id, parent_span_id, name, service, start_ms, start_ns, end_ns, span_json) VALUES ${values} RETURNING span_id`,
      );
      this.inserts.set(rows, statement);
    }
    return statement;
  }

  list(query: TraceQuery = {}): TraceSummary[] {
    const where: string[] = [];
    const params: Record<string, SqlValue> = {};
    const spanConditions: string[] = [];
    if (query.text?.trim()) {
      params['text'] = `%${escapeLike(query.text.trim().toLowerCase())}%`;
      params['textPrefix'] = `${escapeLike(query.text.trim().toLowerCase())}%`;
      where.push(
        `(t.trace_id LIKE @textPrefix ESCAPE '\\' OR lower(t.root_name) LIKE @text ESCAPE '\\' OR EXISTS (SELECT 1 FROM trace_spans x WHERE x.trace_id = t.trace_id AND lower(x.name) LIKE @text ESCAPE '\\'))`,
      );
    }
    if (query.service) {
      params['service'] = query.service;
      spanConditions.push('s.service = @service');
    }
    if (query.spanName?.trim()) {
      params['spanName'] = `%${escapeLike(query.spanName.trim().toLowerCase())}%`;
      spanConditions.push(`lower(s.name) LIKE @spanName ESCAPE '\\'`);
    }
    if (query.attributeKey) {
      params['attrKey'] = query.attributeKey;
      if (query.attributeValue !== undefined && query.attributeValue !== '') {
        params['attrValue'] = query.attributeValue;
        spanConditions.push(`EXISTS (SELECT 1 FROM json_each(s.span_json, '$.attributes') a WHERE a.key = @attrKey AND CAST(a.value AS TEXT) = @attrValue)`);
      } else {
        spanConditions.push(`EXISTS (SELECT 1 FROM json_each(s.span_json, '$.attributes') a WHERE a.key = @attrKey)`);
      }
    }
    if (spanConditions.length) where.push(`EXISTS (SELECT 1 FROM trace_spans s WHERE s.trace_id = t.trace_id AND ${spanConditions.join(' AND ')})`);
    if (query.status === 'error') where.push('t.error_count > 0');
    if (query.status === 'ok') where.push('t.error_count = 0');
    if (query.minDurationMs !== undefined) {
      params['minDur'] = query.minDurationMs;
      where.push('(t.end_ms - t.start_ms) >= @minDur');
    }
    if (query.maxDurationMs !== undefined) {
      params['maxDur'] = query.maxDurationMs;
      where.push('(t.end_ms - t.start_ms) <= @maxDur');
    }
    if (query.fromMs !== undefined) {
      params['fromMs'] = query.fromMs;
      where.push('t.start_ms >= @fromMs');
    }
    if (query.toMs !== undefined) {
      params['toMs'] = query.toMs;
      where.push('t.start_ms <= @toMs');
    }
    params['limit'] = Math.min(Math.max(1, Math.floor(query.limit ?? 200)), MAX_LIST);
    const sql = `SELECT t.* FROM traces t ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.start_ms DESC, t.trace_id LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as TraceRow[]).map(toSummary);
  }

  get(traceId: string): TraceRecord | null {
    const row = this.statements.selectTrace.get(traceId) as TraceRow | undefined;
    if (!row) return null;
    const rows = this.db.prepare('SELECT span_id, parent_span_id, name, service, span_json FROM trace_spans WHERE trace_id = ? ORDER BY start_ms').all(traceId) as SpanRowColumns[];
    return { summary: toSummary(row), spans: spansFromRows(traceId, rows) };
  }

  /**
   * The first `limit` spans of a trace in the order the tree view lists them, for a first paint
   * before the whole trace has arrived: the order comes from the rows' ids, parents, names and
   * start times (no span JSON is parsed), built by the same code as the view's tree, and only
   * the spans of the page are read whole.
   */
  head(traceId: string, limit: number): TraceHead | null {
    const row = this.statements.selectTrace.get(traceId) as TraceRow | undefined;
    if (!row) return null;
    // One JSON array made in SQLite and parsed at once: several times cheaper than 100,000 row objects.
    const { rows: lightJson } = this.db
      .prepare('SELECT json_group_array(json_array(span_id, parent_span_id, name, CAST(start_ns AS TEXT), CAST(end_ns AS TEXT))) AS rows FROM trace_spans WHERE trace_id = ?')
      .get(traceId) as { rows: string };
    const light = JSON.parse(lightJson) as LightRow[];
    const { order, startNs, endNs } = treeOrder(light, Math.max(0, Math.floor(limit)));
    const spans: TraceSpan[] = [];
    for (let at = 0; at < order.length; at += 500) {
      const ids = order.slice(at, at + 500);
      const rows = this.db
        .prepare(`SELECT span_id, parent_span_id, name, service, span_json FROM trace_spans WHERE trace_id = ? AND span_id IN (${ids.map(() => '?').join(', ')})`)
        .all(traceId, ...ids) as SpanRowColumns[];
      const byId = new Map(spansFromRows(traceId, rows).map((span) => [span.spanId, span]));
      for (const id of ids) {
        const span = byId.get(id);
        if (span) spans.push(span);
      }
    }
    return { summary: toSummary(row), spans, startTimeUnixNano: startNs, endTimeUnixNano: endNs };
  }

  delete(traceId: string): void {
    inTransaction(this.db, () => {
      this.db.prepare('DELETE FROM trace_spans WHERE trace_id = ?').run(traceId);
      this.db.prepare('DELETE FROM traces WHERE trace_id = ?').run(traceId);
    });
  }

  /** Applies retention: by age, then by total spans and bytes (least recently updated first). Returns the traces removed. */
  prune(): number {
    const now = this.opts.now();
    this.lastPrune = now;
    const victims: string[] = (this.db.prepare('SELECT trace_id FROM traces WHERE updated_at < ?').all(now - this.opts.maxAgeMs) as { trace_id: string }[]).map(
      (r) => r.trace_id,
    );
    const totals = this.db.prepare('SELECT COALESCE(SUM(span_count), 0) AS spans, COALESCE(SUM(bytes), 0) AS bytes FROM traces WHERE updated_at >= ?').get(now - this.opts.maxAgeMs) as {
      spans: number;
      bytes: number;
    };
    let { spans, bytes } = totals;
    if (spans > this.opts.maxSpans || bytes > this.opts.maxBytes) {
      const oldest = this.db.prepare('SELECT trace_id, span_count, bytes FROM traces WHERE updated_at >= ? ORDER BY updated_at, start_ms').all(now - this.opts.maxAgeMs) as {
        trace_id: string;
        span_count: number;
        bytes: number;
      }[];
      for (const row of oldest) {
        if (spans <= this.opts.maxSpans && bytes <= this.opts.maxBytes) break;
        victims.push(row.trace_id);
        spans -= row.span_count;
        bytes -= row.bytes;
      }
    }
    if (victims.length === 0) return 0;
    inTransaction(this.db, () => {
      const spansOf = this.db.prepare('DELETE FROM trace_spans WHERE trace_id = ?');
      const trace = this.db.prepare('DELETE FROM traces WHERE trace_id = ?');
      for (const id of victims) {
        spansOf.run(id);
        trace.run(id);
      }
    });
    return victims.length;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }
}

function toSummary(row: TraceRow): TraceSummary {
  return {
    traceId: row.trace_id,
    rootName: row.root_name,
    rootService: row.root_service,
    complete: row.complete === 1,
    services: JSON.parse(row.services) as string[],
    startMs: row.start_ms,
    durationMs: Math.max(0, row.end_ms - row.start_ms),
    spanCount: row.span_count,
    errorCount: row.error_count,
    updatedAt: row.updated_at,
    droppedSpans: row.dropped,
  };
}

function nanosToMs(ns: string): number {
  // Milliseconds with sub-millisecond precision; exact nanoseconds stay in the span's JSON.
  return ns.length > 6 ? Number(ns.slice(0, -6)) + Number(ns.slice(-6)) / 1e6 : Number(ns) / 1e6;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
