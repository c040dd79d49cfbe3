import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { MIGRATIONS, migrate, schemaVersion } from '../../src/db/migrations'
import { openStore } from '../../src/db/open'
import { tempDir } from '../helpers/gateway'

const tables = (db: Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as { name: string }[]).map((r) => r.name)

describe('migrations', () => {
  test('an empty database gets every migration, once', () => {
    const db = new Database(':memory:')
    expect(migrate(db)).toBe(MIGRATIONS.length)
    expect(schemaVersion(db)).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version)
    expect(tables(db)).toEqual(expect.arrayContaining(['accounts', 'cards', 'ledger', 'op_logs', 'usage_records', 'upstream_keys']))
    expect(migrate(db)).toBe(0)
  })

  test('an existing database at an older version is brought up to date, keeping its rows', () => {
    const db = new Database(':memory:')
    migrate(db, MIGRATIONS.slice(0, 1))
    expect(schemaVersion(db)).toBe(1)
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('X', '1', 0)").run()
    expect(tables(db)).not.toContain('usage_records')
    expect(migrate(db)).toBe(MIGRATIONS.length - 1)
    expect(tables(db)).toContain('usage_records')
    expect(db.prepare("SELECT value FROM settings WHERE key='X'").get()).toEqual({ value: '1' })
  })

  test('usage records keep the time index pruning reads and lose the unread (account, time) one', () => {
    const db = new Database(':memory:')
    migrate(db)
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='usage_records'").all() as { name: string }[]).map((r) => r.name)
    expect(indexes).toContain('usage_time')
    expect(indexes).not.toContain('usage_account_time')
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT id FROM usage_records WHERE created_at < 1 ORDER BY created_at LIMIT 10').all() as { detail: string }[]
    expect(plan.map((p) => p.detail).join(' ')).toContain('usage_time')
  })

  test('a failing migration changes nothing', () => {
    const db = new Database(':memory:')
    migrate(db, MIGRATIONS.slice(0, 1))
    const bad = [...MIGRATIONS.slice(0, 1), { version: 2, name: 'bad', sql: 'CREATE TABLE t1 (a INT); CREATE TABLE accounts (x INT);' }]
    expect(() => migrate(db, bad)).toThrow()
    expect(schemaVersion(db)).toBe(1)
    expect(tables(db)).not.toContain('t1')
  })

  test('openStore uses WAL and foreign keys', async () => {
    const dir = tempDir()
    const store = openStore(dir)
    expect(store.db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    expect(store.db.prepare('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
    expect(store.path).toBe(join(dir, 'xgate.db'))
    await store.close()
  })
})
