// Shared money counters on a real Redis: parallel holds from several clients never take an
// account below its minimum, a miss is seeded once, settlement and admin moves correct it.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { createSharedHolds, type SharedHolds } from '../../src/cluster/holds'
import { openRedis, type Redis } from '../../src/cluster/redis'
import { startRedis, type RedisServer } from '../helpers/redis'

const USD = 1_000_000_000
let srv: RedisServer
const clients: Redis[] = []
const holds: SharedHolds[] = []

beforeAll(async () => {
  srv = await startRedis()
  for (let i = 0; i < 4; i++) {
    const r = await openRedis({ url: srv.url, commandTimeoutMs: 2_000, prefix: 'ht:' })
    clients.push(r)
    holds.push(createSharedHolds({ redis: r }))
  }
})
afterAll(async () => {
  for (const c of clients) c.close()
  await srv.stop()
})
beforeEach(async () => {
  await clients[0]!.send('FLUSHALL', [])
})

const h = () => holds[0]!

describe('admission', () => {
  test('a $2 counter with 100 parallel holds of $0.05 from 4 clients keeps the minimum', async () => {
    const min = 0.1 * USD
    const hold = 0.05 * USD
    expect(await h().seed(1, 2 * USD)).toBe(true)
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => holds[i % 4]!.admit(1, hold, min)),
    )
    const held = results.filter((r) => r.kind === 'held')
    // (2.00 − 0.10) / 0.05 = 38 holds fit exactly.
    expect(held.length).toBe(38)
    for (const r of results) {
      expect(r.kind).not.toBe('miss')
      if (r.kind !== 'miss') expect(r.availableNano).toBeGreaterThanOrEqual(min)
    }
    expect(await h().available(1)).toBe(min)
  })

  test('an absent counter is a miss; the first seed wins, the admission then holds', async () => {
    expect(await h().admit(2, 1_000, 0)).toEqual({ kind: 'miss' })
    expect(await h().available(2)).toBeNull()
    const seeds = await Promise.all(holds.map((x) => x.seed(2, 5_000)))
    expect(seeds.filter(Boolean).length).toBe(1)
    expect(await h().admit(2, 1_000, 0)).toEqual({ kind: 'held', availableNano: 4_000 })
    expect(await h().admit(2, 4_001, 0)).toEqual({ kind: 'short', availableNano: 4_000 })
    expect(await h().available(2)).toBe(4_000)
  })

  test('an account with nothing free is refused even a zero hold', async () => {
    await h().seed(3, 0)
    expect(await h().admit(3, 0, 0)).toEqual({ kind: 'short', availableNano: 0 })
  })
})

describe('settlement and money moves', () => {
  test('settle gives back the hold less the cost; a costlier call takes the rest', async () => {
    await h().seed(4, 1 * USD)
    await h().admit(4, 0.2 * USD, 0)
    expect(await holds[1]!.settle(4, 0.2 * USD, 0.05 * USD)).toBe(true)
    expect(await h().available(4)).toBe(0.95 * USD)
    await h().admit(4, 0.1 * USD, 0)
    await h().settle(4, 0.1 * USD, 0.15 * USD)
    expect(await h().available(4)).toBe(0.8 * USD)
  })

  test('adjust after a funding commits moves the counter; an absent counter stays absent', async () => {
    await h().seed(5, 0.01 * USD)
    expect((await h().admit(5, 0.05 * USD, 0)).kind).toBe('short')
    expect(await holds[2]!.adjust(5, 3 * USD)).toBe(true)
    expect(await h().admit(5, 0.05 * USD, 0)).toEqual({ kind: 'held', availableNano: 2.96 * USD })
    // No counter: the move is already in the database, which the next seed reads.
    expect(await h().adjust(6, 1 * USD)).toBe(false)
    expect(await h().settle(6, 10, 5)).toBe(false)
    expect(await h().available(6)).toBeNull()
  })

  test('forget drops the counter so the next admission reseeds', async () => {
    await h().seed(7, 100)
    await h().forget(7)
    expect(await h().admit(7, 1, 0)).toEqual({ kind: 'miss' })
  })
})

describe('bad input', () => {
  test('amounts that are not whole nano-USD are refused by name, and nothing moves', async () => {
    await h().seed(8, 1_000)
    await expect(h().admit(8, 0.5, 0)).rejects.toThrow('holdNano')
    await expect(h().admit(8, -1, 0)).rejects.toThrow('holdNano')
    await expect(h().adjust(8, 2 ** 53)).rejects.toThrow('deltaNano')
    await expect(h().settle(8, 10, Number.NaN)).rejects.toThrow('costNano')
    await expect(h().seed(9, 1.5)).rejects.toThrow('balanceNano')
    await expect(h().admit(0, 1, 0)).rejects.toThrow('accountId')
    expect(await h().available(8)).toBe(1_000)
    expect(await h().available(9)).toBeNull()
  })

  test('a move that would leave the safe integer range is undone', async () => {
    await h().seed(10, Number.MAX_SAFE_INTEGER - 5)
    await expect(h().adjust(10, 10)).rejects.toThrow('safe integer')
    expect(await h().available(10)).toBe(Number.MAX_SAFE_INTEGER - 5)
  })
})
