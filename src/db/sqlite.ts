// The SQLite engine behind the SQL seam: bun:sqlite statements (compiled once per text by
// Database.query's cache) behind promises. One connection serves the process, so transactions
// take turns: `tx` waits for the one before it, then BEGIN IMMEDIATE … COMMIT, and a statement
// issued outside a transaction while one is open waits for it too (it would otherwise land
// inside it, or read what it may still roll back). Statements run synchronously, so a transaction holds the lock only as long as its
// own work.
import type { Database } from 'bun:sqlite'
import type { Row, Sql, SqlDb, Tx } from './sql'

type Args = readonly unknown[] | undefined

export function sqliteSql(db: Database, where = ':memory:'): SqlDb & { raw: Database } {
  // The tail of the queue of transactions: resolves when the last one has finished.
  let turn: Promise<void> = Promise.resolve()
  let open = false

  const bind = (args: Args) => (args ?? []) as never[]
  const direct: Sql = {
    engine: 'sqlite',
    all: async <T>(text: string, args?: Args) => db.query(text).all(...bind(args)) as T[],
    get: async <T>(text: string, args?: Args) =>
      (db.query(text).get(...bind(args)) ?? undefined) as T | undefined,
    run: async (text: string, args?: Args) => db.query(text).run(...bind(args)).changes,
    exec: async (text: string) => {
      db.exec(text)
    },
  }

  /** Runs `fn` when no transaction is open, as one of its own. */
  const queued = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const before = turn
    let release!: () => void
    turn = new Promise((r) => (release = r))
    return before.then(async () => {
      open = true
      db.exec('BEGIN IMMEDIATE')
      try {
        const out = await fn(direct)
        db.exec('COMMIT')
        return out
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK')
        throw e
      } finally {
        open = false
        release()
      }
    })
  }

  // Outside a transaction: at once when none is open; else after it, so nothing outside ever sees
  // (or caches) rows a transaction may still roll back, and no write lands inside one.
  const outside = <T>(run: () => Promise<T>): Promise<T> =>
    open ? queued(() => run()) : run()

  return {
    engine: 'sqlite',
    where,
    raw: db,
    all: <T = Row>(text: string, args?: Args) => outside(() => direct.all<T>(text, args)),
    get: <T = Row>(text: string, args?: Args) => outside(() => direct.get<T>(text, args)),
    run: (text: string, args?: Args) => outside(() => direct.run(text, args)),
    exec: (text: string) => outside(() => direct.exec(text)),
    tx: queued,
    async close() {
      await turn
      db.close()
    },
  }
}
