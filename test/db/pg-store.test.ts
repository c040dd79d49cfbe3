// The PostgreSQL store's start-up: migrations applied once under an advisory lock when several
// processes start at once on one empty database; a bad DATABASE_URL is a clear start-up error.
import { expect, test } from 'bun:test'
import { openConfigured } from '../../src/db/open'
import { migratePostgres, schemaVersionOf } from '../../src/db/pg-store'
import { postgresSql } from '../../src/db/postgres'
import { PG_MIGRATIONS } from '../../src/db/schema/pg'
import { onEngine, pgServer } from '../helpers/engine'

onEngine('postgres', () => {
  test('four processes migrating one empty database at once: each version applied exactly once', async () => {
    const url = await (await pgServer()).createDatabase('mig', { empty: true })
    const clients = Array.from({ length: 4 }, () => postgresSql(url, { max: 2 }))
    try {
      const applied = await Promise.all(clients.map((c) => migratePostgres(c)))
      expect(applied.reduce((a, b) => a + b, 0), `applied per process: ${applied}`).toBe(PG_MIGRATIONS.length)
      const rows = await clients[0]!.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version))
      expect(await schemaVersionOf(clients[0]!)).toBe(PG_MIGRATIONS.at(-1)!.version)
      expect(await migratePostgres(clients[1]!), 'a later start applies nothing').toBe(0)
    } finally {
      await Promise.all(clients.map((c) => c.close()))
    }
  })
})

test('DATABASE_URL that is not a postgres:// URL stops start-up naming the setting', async () => {
  await expect(openConfigured({ DATA_DIR: '/nonexistent', DATABASE_URL: 'mysql://x@y/z' })).rejects.toThrow(
    /DATABASE_URL/,
  )
})
