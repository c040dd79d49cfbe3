// WAL checkpoints on a worker thread: the serving connection stops checkpointing on commit, the
// worker copies the WAL into the database file, and stopping gives checkpoints back.
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCheckpointer } from '../../src/db/checkpointer'
import type { Database } from 'bun:sqlite'
import { openStore, type Store } from '../../src/db/open'

type SqliteStore = Store & { db: Database }
import { createMemoryLogger } from '../../src/shared/log'
import { until } from '../proxy/fixtures'

let dir = ''
let store: SqliteStore | null = null
afterEach(async () => {
  await store?.close()
  store = null
  rmSync(dir, { recursive: true, force: true })
})

const autocheckpoint = (s: SqliteStore) =>
  (s.db.query('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number })
    .wal_autocheckpoint

describe('checkpoint worker', () => {
  test('takes checkpoints off the main connection and gives them back on stop', async () => {
    dir = mkdtempSync(join(tmpdir(), 'xgate-ckpt-'))
    store = openStore(dir)
    const s = store
    const log = createMemoryLogger()
    s.db.exec('CREATE TABLE filler (v BLOB)')
    const cp = await startCheckpointer(s.db, s.path, 20, log)
    expect(cp).not.toBeNull()
    expect(autocheckpoint(s)).toBe(0)
    // ~2,500 pages: past the default 1,000-page checkpoint, which the main connection no longer
    // takes, so only the worker moves them into the database file.
    const insert = s.db.prepare('INSERT INTO filler (v) VALUES (?)')
    s.db.transaction(() => {
      for (let i = 0; i < 2_500; i++) insert.run(new Uint8Array(4000))
    })()
    const before = statSync(s.path).size
    await until(() => cp!.checkpoints > 0 && statSync(s.path).size > before + 5_000_000, 5_000)
    expect(statSync(s.path).size).toBeGreaterThan(before + 5_000_000)
    await cp!.stop()
    expect(autocheckpoint(s)).toBe(1000)
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([])
  })

  test('a database it cannot open leaves checkpoints on commit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'xgate-ckpt-'))
    store = openStore(dir)
    const log = createMemoryLogger()
    const cp = await startCheckpointer(store.db, join(dir, 'missing.db'), 20, log)
    expect(cp).toBeNull()
    expect(autocheckpoint(store)).toBe(1000)
    expect(log.lines.some((l) => String(l.msg).includes('checkpoint worker failed'))).toBe(true)
  })
})
