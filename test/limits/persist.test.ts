// drain → repo.save → loadAll → restore round trips through a real bun:sqlite database.

import { Database } from 'bun:sqlite'
import type { SqlDb } from '../../src/db/sql'
import { sqliteSql } from '../../src/db/sqlite'
import { describe, expect, test } from 'bun:test'
import { createFakeClock } from '../../src/shared/clock'
import { createMonthlySpend } from '../../src/limits/monthly'
import {
  LIMIT_WINDOWS_DDL,
  MONTH_SPEND_DDL,
  createMonthSpendRepo,
  createWindowsRepo,
} from '../../src/limits/repo'
import { createLimitWindows, type WindowRow } from '../../src/limits/windows'

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0)
const S = 1000
const TZ = 'Asia/Shanghai'
const ACCOUNT = { key: 'a:42', limits: { rpm: 100, tpm: 100_000, rph: 1000, tpd: 1_000_000 } }
const MODEL = { key: 'a:42:m:gpt-4o', limits: { rpm: 10, tpm: 5000 } }

function openDb() {
  const raw = new Database(':memory:', { strict: true })
  raw.run(LIMIT_WINDOWS_DDL)
  raw.run(MONTH_SPEND_DDL)
  return sqliteSql(raw)
}

function flush(db: SqlDb, rows: WindowRow[]) {
  return db.tx((tx) => createWindowsRepo(tx).save(rows))
}

describe('limit windows', () => {
  test('state survives a restart: every window and scope comes back equal', async () => {
    const db = openDb()
    const clock = createFakeClock(T0)
    const before = createLimitWindows({ clock, timeZone: TZ })
    for (let i = 0; i < 12; i++) {
      const r = before.reserve(i % 2 ? [ACCOUNT, MODEL] : [ACCOUNT], 100 + i)
      if (r.ok && i % 3 === 0) before.settle(r.reservation, 40)
      clock.advance(7 * S)
    }
    await flush(db, before.drain())
    expect(before.drain()).toEqual([])
    clock.advance(20 * S)
    const after = createLimitWindows({ clock, timeZone: TZ })
    after.restore(await createWindowsRepo(db).loadAll(), clock.now())
    for (const key of ['a:42', 'a:42:m:gpt-4o']) expect(after.usage(key)).toEqual(before.usage(key))
    expect(after.usage('a:42').rph).toBe(12)
    // Restored buckets are already saved: nothing to drain until new traffic.
    expect(after.drain()).toEqual([])
  })

  test('buckets that left their window while down are dropped on restore', async () => {
    const db = openDb()
    const clock = createFakeClock(T0)
    const before = createLimitWindows({ clock, timeZone: TZ })
    before.reserve([ACCOUNT], 500)
    await flush(db, before.drain())
    clock.advance(62 * S)
    const after = createLimitWindows({ clock, timeZone: TZ })
    after.restore(await createWindowsRepo(db).loadAll(), clock.now())
    expect(after.usage('a:42')).toMatchObject({ rpm: 0, tpm: 0, rph: 1, tpd: 500 })
    // After Shanghai midnight (16:00 UTC) the day row is gone too.
    clock.set(Date.UTC(2026, 0, 15, 16, 0, 0))
    const nextDay = createLimitWindows({ clock, timeZone: TZ })
    nextDay.restore(await createWindowsRepo(db).loadAll(), clock.now())
    expect(nextDay.usage('a:42')).toMatchObject({ rph: 0, tpd: 0 })
  })

  test('a released bucket is deleted; later drains upsert only what changed', async () => {
    const db = openDb()
    const repo = createWindowsRepo(db)
    const clock = createFakeClock(T0)
    const w = createLimitWindows({ clock, timeZone: TZ })
    const r = w.reserve([MODEL], 100)
    await flush(db, w.drain())
    expect((await repo.loadAll()).length).toBe(1)
    if (r.ok) w.release(r.reservation)
    const rows = w.drain()
    expect(rows).toEqual([
      { scope: 'a:42:m:gpt-4o', kind: 'minute', bucketMs: T0, requests: 0, tokens: 0 },
    ])
    await flush(db, rows)
    expect(await repo.loadAll()).toEqual([])
  })

  test('prune deletes only buckets that have left their window', async () => {
    const db = openDb()
    const repo = createWindowsRepo(db)
    const w = createLimitWindows({ clock: createFakeClock(T0), timeZone: TZ })
    w.reserve([ACCOUNT], 10)
    await flush(db, w.drain())
    expect(
      (await repo
        .loadAll())
        .map((r) => r.kind)
        .sort(),
    ).toEqual(['day', 'hour', 'minute'])
    await repo.prune(T0 + 60 * S)
    expect((await repo.loadAll()).length).toBe(3)
    await repo.prune(T0 + 61 * S)
    expect(
      (await repo
        .loadAll())
        .map((r) => r.kind)
        .sort(),
    ).toEqual(['day', 'hour'])
    await repo.prune(T0 + 61 * 60 * S)
    expect((await repo.loadAll()).map((r) => r.kind)).toEqual(['day'])
    await repo.prune(T0 + 3 * 86_400 * S)
    expect(await repo.loadAll()).toEqual([])
  })
})

test('month spend survives a restart through its repo', async () => {
  const db = openDb()
  const repo = createMonthSpendRepo(db)
  const clock = createFakeClock(T0)
  const before = createMonthlySpend({ clock, timeZone: TZ })
  before.add(42, 1_500_000_000)
  before.add(7, 20)
  before.add(42, 250)
  await db.tx((tx) => createMonthSpendRepo(tx).save(before.drain()))
  const after = createMonthlySpend({ clock, timeZone: TZ })
  after.restore(await repo.loadSince(after.calendar.month(clock.now()).startMs), clock.now())
  expect(after.get(42)).toBe(1_500_000_250)
  expect(after.get(7)).toBe(20)
  expect(after.drain()).toEqual([])
})
