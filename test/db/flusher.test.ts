import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { createFlusher, type FlushSource } from '../../src/db/flusher'
import { sqliteSql } from '../../src/db/sqlite'
import { createMemoryLogger } from '../../src/shared/log'

function setup(opts: { intervalMs?: number; maxRows?: number } = {}) {
  const raw = new Database(':memory:')
  raw.exec('CREATE TABLE rows (v INTEGER NOT NULL CHECK (v >= 0))')
  const db = sqliteSql(raw)
  let pending: number[] = []
  const source: FlushSource<number> = {
    name: 'numbers',
    pending: () => pending.length,
    drain: () => {
      const out = pending
      pending = []
      return out
    },
    write: async (tx, rows) => {
      for (const v of rows) await tx.run('INSERT INTO rows (v) VALUES (?)', [v])
    },
    requeue: (rows) => {
      pending = rows.concat(pending)
    },
  }
  const log = createMemoryLogger()
  const flusher = createFlusher({
    db,
    intervalMs: opts.intervalMs ?? 20,
    maxRows: opts.maxRows ?? 3,
    log,
  })
  flusher.register(source)
  const count = () => (raw.prepare('SELECT COUNT(*) AS n FROM rows').get() as { n: number }).n
  return {
    db,
    flusher,
    push: (v: number) => pending.push(v),
    count,
    log,
    pendingCount: () => pending.length,
  }
}

describe('flusher', () => {
  test('flushNow writes everything pending in one transaction', async () => {
    const s = setup()
    s.push(1)
    s.push(2)
    expect(s.flusher.pending()).toBe(2)
    expect(await s.flusher.flushNow()).toBe(2)
    expect(s.count()).toBe(2)
    expect(s.flusher.pending()).toBe(0)
    expect(s.flusher.stats().flushes).toBe(1)
  })

  test('a failing batch is rolled back whole and requeued, then written on the next try', async () => {
    const s = setup()
    s.push(1)
    s.push(-1)
    expect(await s.flusher.flushNow()).toBe(0)
    expect(s.count()).toBe(0)
    expect(s.pendingCount()).toBe(2)
    expect(s.log.lines.some((l) => l.level === 'error')).toBe(true)
    await s.flusher.flushNow()
    expect(s.count()).toBe(0)
  })

  test('a large bound is checked every maxRows/64 pokes: the early flush comes within 2 %', async () => {
    // maxRows 6,400: the backlog is counted every 100th poke.
    const s = setup({ intervalMs: 60_000, maxRows: 6_400 })
    s.flusher.start()
    let pushed = 0
    while (s.count() === 0 && pushed < 7_000) {
      s.push(pushed++)
      s.flusher.poke()
      if (s.pendingCount() >= 6_400) await Bun.sleep(1)
    }
    s.flusher.stop()
    expect(s.count()).toBeGreaterThanOrEqual(6_400)
    expect(s.count()).toBeLessThanOrEqual(6_400 + 100)
  })

  test('the interval flushes by itself, and poke() flushes early past the bound', async () => {
    const s = setup()
    s.flusher.start()
    s.push(5)
    await Bun.sleep(60)
    expect(s.count()).toBe(1)
    s.flusher.stop()
    const t = setup()
    t.flusher.start()
    t.flusher.stop()
    // poke only acts while running
    t.flusher.start()
    for (const v of [1, 2, 3, 4]) t.push(v)
    t.flusher.poke()
    await Bun.sleep(5)
    expect(t.count()).toBe(4)
    t.flusher.stop()
  })
})
