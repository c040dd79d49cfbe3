// The PostgreSQL store (DATABASE_URL=postgres://…): Bun's client, the versioned migrations of
// schema/pg.ts applied at start, each in its own transaction under an advisory lock, so two
// processes starting at once on one database never both migrate (the second waits, then finds
// every version applied). No single-instance lock: several processes may share the database.
import type { Migration } from './migrations'
import { postgresSql } from './postgres'
import { PG_MIGRATIONS } from './schema/pg'
import type { SqlDb } from './sql'

/** pg_advisory_xact_lock key of schema migrations ('xgate-mg' as a 64-bit integer). */
const MIGRATION_LOCK = 0x786761746d67n

/** Applies every migration newer than the database's version; returns how many it applied. */
export async function migratePostgres(sql: SqlDb, migrations: Migration[] = PG_MIGRATIONS): Promise<number> {
  let applied = 0
  const lock = `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`
  await sql.tx(async (tx) => {
    await tx.exec(lock)
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    )
  })
  for (const m of migrations) {
    await sql.tx(async (tx) => {
      await tx.exec(lock)
      const done = await tx.get('SELECT 1 AS ok FROM schema_migrations WHERE version = ?', [m.version])
      if (done) return
      await tx.exec(m.sql)
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        Date.now(),
      ])
      applied++
    })
  }
  return applied
}

export async function schemaVersionOf(sql: SqlDb): Promise<number> {
  const r = await sql.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')
  return r?.v ?? 0
}

/** Opens the PostgreSQL store for serving (or a one-off command): connects, migrates. */
export async function openPostgresStore(url: string, opts: { max?: number } = {}) {
  const sql = postgresSql(url, opts)
  try {
    await migratePostgres(sql)
  } catch (e) {
    await sql.close()
    throw e
  }
  return {
    engine: 'postgres' as const,
    sql,
    db: undefined,
    path: sql.where,
    close: () => sql.close(),
  }
}
