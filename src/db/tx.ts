// The transaction seam: services name the store as `Db` and write through `withTx`, so only
// src/db and the repo files know the engine. Today `Db` is SQLite's handle (bun:sqlite); the
// PostgreSQL engine comes in behind these two names.
import type { Database } from 'bun:sqlite'

/** The database a service is given (passed on to its repositories). */
export type Db = Database

/**
 * Runs `fn` as one immediate transaction (the write lock taken at its start, so concurrent
 * writers serialize instead of failing on upgrade); nothing may be awaited inside.
 */
export function withTx<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate()
}
