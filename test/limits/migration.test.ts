// Migration 5 re-keys limit_windows time first: rows written before it survive, and the repo's
// upsert, delete and prune work on the new key.
import { sqliteSql } from '../../src/db/sqlite'
import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { MIGRATIONS, migrate } from '../../src/db/migrations'
import { createWindowsRepo } from '../../src/limits/repo'

test('rows survive the re-keying; upsert, delete and prune use the new key', async () => {
  const db = new Database(':memory:', { strict: true })
  migrate(
    db,
    MIGRATIONS.filter((m) => m.version < 5),
  )
  db.prepare(
    'INSERT INTO limit_windows (scope, kind, bucket_ms, requests, tokens) VALUES (?, ?, ?, ?, ?)',
  ).run('a:7', 'minute', 60_000, 3, 90)
  expect(migrate(db)).toBeGreaterThan(0)
  const sql = (
    db.prepare("SELECT sql FROM sqlite_master WHERE name = 'limit_windows'").get() as {
      sql: string
    }
  ).sql
  expect(sql).toContain('PRIMARY KEY (kind, bucket_ms, scope)')
  const repo = createWindowsRepo(sqliteSql(db))
  expect(await repo.loadAll()).toEqual([
    { scope: 'a:7', kind: 'minute', bucketMs: 60_000, requests: 3, tokens: 90 },
  ])
  await repo.save([
    { scope: 'a:7', kind: 'minute', bucketMs: 60_000, requests: 4, tokens: 100 },
    { scope: 'a:8', kind: 'hour', bucketMs: 3_600_000, requests: 1, tokens: 0 },
  ])
  expect((await repo.loadAll()).find((r) => r.scope === 'a:7')?.requests).toBe(4)
  await repo.save([{ scope: 'a:7', kind: 'minute', bucketMs: 60_000, requests: 0, tokens: 0 }])
  expect((await repo.loadAll()).map((r) => r.scope)).toEqual(['a:8'])
  await repo.prune(3_600_000 + 61 * 60_000)
  expect(await repo.loadAll()).toEqual([])
})
