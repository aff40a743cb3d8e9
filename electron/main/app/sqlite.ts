// The SQLite connection the run history is kept in, from one of two drivers behind the few
// calls the history needs:
// - better-sqlite3 in plain Node (tests, CLI, `loom ui`): the driver the project pins for Node 20,
//   which has no built-in SQLite.
// - node:sqlite in Electron: Electron 40 embeds Node 24, whose built-in DatabaseSync needs no
//   native addon. better-sqlite3's addon in node_modules is built for the machine's Node ABI, not
//   Electron's, and rebuilding it for Electron happens in place (@electron/rebuild,
//   electron-builder's npmRebuild), which would break it for Node in turn.
// Both drivers are loaded at run time through require, so that neither is loaded where it cannot
// work: a static import of better-sqlite3 would fail the Electron main bundle at start-up, and
// bundlers running on Node 20 do not know node:sqlite as a built-in.
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

export type SqlValue = string | number | bigint | Uint8Array | null;
/** Positional values, or one object of named values (keys without their '@'). */
export type SqlParams = SqlValue[] | [Record<string, SqlValue>];

export interface SqliteStatement {
  run(...params: SqlParams): unknown;
  /** The first row, or undefined. */
  get(...params: SqlParams): unknown;
  all(...params: SqlParams): unknown[];
}

/** The part of a connection the history uses; better-sqlite3's Database and node:sqlite's DatabaseSync both have it. */
export interface SqliteDatabase {
  /** Runs one or more statements, discarding rows. */
  exec(sql: string): unknown;
  prepare(sql: string): SqliteStatement;
  close(): unknown;
}

export type SqliteDriver = 'better-sqlite3' | 'node:sqlite';

/** node:sqlite's constructor, typed here because @types/node 20 does not describe the module. */
interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => SqliteDatabase;
}

export interface OpenOptions {
  readonly?: boolean;
}

const requireHere = createRequire(import.meta.url);

/** The driver for this process: node:sqlite inside Electron, better-sqlite3 elsewhere. */
export function defaultDriver(versions: Readonly<Record<string, string | undefined>> = process.versions): SqliteDriver {
  return versions.electron ? 'node:sqlite' : 'better-sqlite3';
}

/** Opens (creating unless readonly) the SQLite file at `path` with `driver`. */
export function openSqlite(path: string, driver: SqliteDriver = defaultDriver(), options: OpenOptions = {}): SqliteDatabase {
  if (driver === 'node:sqlite') {
    const { DatabaseSync } = requireHere('node:sqlite') as NodeSqliteModule;
    return new DatabaseSync(path, { readOnly: options.readonly ?? false });
  }
  const Database = requireHere('better-sqlite3') as typeof BetterSqlite3;
  return new Database(path, { readonly: options.readonly ?? false });
}

/** Runs `body` in one transaction: committed if it returns, rolled back if it throws. */
export function inTransaction<T>(db: SqliteDatabase, body: () => T): T {
  db.exec('BEGIN');
  try {
    const result = body();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
