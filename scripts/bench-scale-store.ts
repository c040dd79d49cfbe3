// The store behind scripts/scale.ts on either engine: SQLite in the run's folder, or a fresh
// database on a PostgreSQL server started for the run; row counts, size and the query plans of the
// lookups the figures rest on (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { openStore, type Store } from '../src/db/open'
import { openPostgresStore } from '../src/db/pg-store'
import { dnaUpperBound } from '../src/logs/repo'
import { startBenchPostgres, type BenchPostgres, type Engine } from './bench-pg'

export type ScaleStore = {
  store: Store
  /** DATABASE_URL on PostgreSQL. */
  url?: string
  /** Where the records are, for the heading. */
  label: string
  pg: BenchPostgres | null
  count(table: string): Promise<number>
  sizeMiB(): Promise<number>
  /** Each statement (with `?` parameters) and its plan, flagged when it scans a whole table. */
  plans(
    list: ReadonlyArray<{ sql: string; args: unknown[] }>,
  ): Promise<Array<{ sql: string; plan: string; scan: boolean }>>
  close(): Promise<void>
}

export async function openScaleStore(engine: Engine, dir: string): Promise<ScaleStore> {
  if (engine === 'sqlite') return sqliteStore(dir)
  const pg = await startBenchPostgres()
  const url = await pg.database('scale')
  const store = await openPostgresStore(url)
  return {
    store,
    url,
    label: `PostgreSQL (${await pg.describe()})`,
    pg,
    async count(table) {
      return (await store.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n
    },
    async sizeMiB() {
      const r = await store.sql.get<{ b: number }>(
        'SELECT pg_database_size(current_database()) AS b',
      )
      return r!.b / 2 ** 20
    },
    async plans(list) {
      // Fresh statistics first, as autovacuum would have gathered them on a serving database.
      await store.sql.exec('ANALYZE')
      const out = []
      for (const q of list) {
        const rows = await store.sql.all<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`,
          q.args,
        )
        const plan = rows.map((r) => r['QUERY PLAN'].trim()).join('; ')
        out.push({ sql: q.sql, plan, scan: /Seq Scan/.test(plan) })
      }
      return out
    },
    async close() {
      await store.close()
      await pg.stop()
    },
  }
}

function sqliteStore(dir: string): ScaleStore {
  const store = openStore(dir, { lock: false })
  /** One ad hoc statement, finalized at once (an open one would block the closing checkpoint). */
  const once = <T>(sql: string, args: unknown[] = []): T[] => {
    const st = store.db.prepare(sql)
    try {
      return st.all(...(args as never[])) as T[]
    } finally {
      st.finalize()
    }
  }
  return {
    store,
    label: `SQLite file under ${dir}`,
    pg: null,
    count: async (table) => once<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)[0]!.n,
    sizeMiB: async () => statSync(join(dir, 'xgate.db')).size / 2 ** 20,
    async plans(list) {
      return list.map((q) => {
        const rows = once<{ detail: string }>(`EXPLAIN QUERY PLAN ${q.sql}`, q.args)
        const plan = rows.map((r) => r.detail).join('; ')
        return { sql: q.sql, plan, scan: /\bSCAN\b/.test(plan) }
      })
    },
    async close() {
      store.close()
    },
  }
}

/** The lookups behind the scale figures, as the repos phrase them, with values from the run. */
export function lookups(v: {
  rootDna: string
  accountId: number
  keyHash: string
  from: string
  to: string
}) {
  const [lo, hi] = [v.rootDna, dnaUpperBound(v.rootDna)]
  return [
    { sql: 'SELECT * FROM accounts WHERE key_hash = ?', args: [v.keyHash] },
    {
      sql: 'SELECT id FROM accounts WHERE dna > ? AND dna < ? ORDER BY dna LIMIT 1000 OFFSET 99000',
      args: [lo, hi],
    },
    { sql: 'SELECT COUNT(*) FROM accounts WHERE dna > ? AND dna < ?', args: [lo, hi] },
    { sql: 'SELECT account_id FROM usage_accounts WHERE dna >= ? AND dna < ?', args: [lo, hi] },
    {
      sql: 'SELECT requests FROM usage_cum WHERE account_id = ? AND day <= ? ORDER BY day DESC LIMIT 1',
      args: [v.accountId, v.to],
    },
    {
      sql: 'SELECT day FROM usage_tree_daily WHERE ancestor_id = ? AND day BETWEEN ? AND ?',
      args: [1, v.from, v.to],
    },
    {
      sql: 'SELECT day FROM usage_daily WHERE account_id = ? AND day BETWEEN ? AND ?',
      args: [v.accountId, v.from, v.to],
    },
  ]
}
