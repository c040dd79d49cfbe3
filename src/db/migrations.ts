// Versioned schema migrations, applied in order at start inside one transaction each.
// SQL stays portable to PostgreSQL where that costs nothing: BIGINT for nano-USD and unix-ms
// columns, TEXT for JSON. SQLite-specific, to be spelled anew for PostgreSQL: `INTEGER PRIMARY
// KEY` (rowid alias → identity column), v4's report triggers (json_each), v5's WITHOUT ROWID.
import type { Database } from 'bun:sqlite'
import { v1 } from './schema/v1'
import { v2 } from './schema/v2'
import { v3 } from './schema/v3'
import { v4 } from './schema/v4'
import { v5 } from './schema/v5'
import { v6 } from './schema/v6'
import { v7 } from './schema/v7'
import { v8 } from './schema/v8'
import { v9 } from './schema/v9'

export type Migration = { version: number; name: string; sql: string }

/** Every schema version in order; a new one is a new file in ./schema and one entry here. */
export const MIGRATIONS: Migration[] = [v1, v2, v3, v4, v5, v6, v7, v8, v9]

/** Applies every migration newer than the database's version; each in its own transaction. */
export function migrate(db: Database, migrations: Migration[] = MIGRATIONS): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  )
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
    v: number | null
  }
  const current = row.v ?? 0
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  )
  let applied = 0
  for (const m of migrations) {
    if (m.version <= current) continue
    db.transaction(() => {
      db.exec(m.sql)
      record.run(m.version, m.name, Date.now())
    })()
    applied++
  }
  return applied
}

export function schemaVersion(db: Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
    v: number | null
  }
  return row.v ?? 0
}
