// The engine-neutral SQL seam. Repositories speak to a `Sql` (the database, or a transaction on
// it) with `?` placeholders and get promises back; the engine behind it is SQLite (bun:sqlite,
// src/db/sqlite.ts) or PostgreSQL (Bun.sql, src/db/postgres.ts). Integer columns come back as JS
// numbers on both (PostgreSQL's bigint is read as BigInt and checked to be a safe integer), so
// money stays integer nano-USD. SQL that differs between the engines is written side by side in
// the repository with `dialect()`, never in services.

export type Engine = 'sqlite' | 'postgres'

export type Row = Record<string, unknown>

/** What a repository is given: run statements, inside a transaction or not. */
export interface Sql {
  readonly engine: Engine
  /** Every row of a query. */
  all<T = Row>(text: string, args?: readonly unknown[]): Promise<T[]>
  /** The first row, or undefined. */
  get<T = Row>(text: string, args?: readonly unknown[]): Promise<T | undefined>
  /** A statement without rows: the number of rows it changed. */
  run(text: string, args?: readonly unknown[]): Promise<number>
  /** Several statements separated by `;` (migrations), no parameters. */
  exec(text: string): Promise<void>
}

/** A transaction: the same `Sql`, committed when the function's promise resolves. */
export type Tx = Sql

/** The database a process opens: a `Sql`, a way to run a transaction, and its close. */
export interface SqlDb extends Sql {
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. On
   * SQLite transactions run one at a time (the write lock is taken at the start); only database
   * work may be awaited inside.
   */
  tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  /** Where it lives, for messages (a file path, or the PostgreSQL URL without its password). */
  readonly where: string
  close(): Promise<void>
}

/** The store is unreachable (PostgreSQL down, connection lost): admin calls answer 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreUnavailableError'
  }
}

/** Picks the statement text for the engine: the one place SQL differs between them. */
export function dialect<T>(sql: { engine: Engine }, texts: { sqlite: T; postgres: T }): T {
  return sql.engine === 'postgres' ? texts.postgres : texts.sqlite
}

/** A list of ids as one parameter: a JSON array on SQLite (json_each), an array on PostgreSQL. */
export function idList(sql: { engine: Engine }, ids: readonly number[]): unknown {
  return sql.engine === 'postgres' ? `{${ids.join(',')}}` : JSON.stringify(ids)
}

/** `x IN (list)` for a parameter made by idList(). */
export function inIdList(sql: { engine: Engine }, column: string): string {
  return sql.engine === 'postgres'
    ? `${column} = ANY(?::bigint[])`
    : `${column} IN (SELECT value FROM json_each(?))`
}

/** A transaction that lost a deadlock or a serialization conflict (PostgreSQL): safe to run again. */
export function isTransient(e: unknown): boolean {
  const errno = (e as { errno?: unknown })?.errno
  return errno === '40P01' || errno === '40001'
}

/**
 * Runs an admin write's transaction, again (up to 5 times, a few ms apart) when PostgreSQL chose
 * it as a deadlock's victim. `fn` must touch nothing outside the database before it commits.
 */
export async function txWithRetry<T>(db: SqlDb, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.tx(fn)
    } catch (e) {
      if (attempt >= 5 || !isTransient(e)) throw e
      await Bun.sleep(2 + Math.floor(Math.random() * 8 * attempt))
    }
  }
}
