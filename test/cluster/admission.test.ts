// Money and limits in one script (SPEC §11): a call's hold, windows and slots are taken together
// or not at all, and its settlement moves all three in one more.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { createSharedHolds, type SharedHolds } from '../../src/cluster/holds'
import { createSharedLimits, type SharedLimits } from '../../src/cluster/limits'
import { openRedis, type Redis } from '../../src/cluster/redis'
import { createCalendar } from '../../src/limits/daykey'
import { startRedis, type RedisServer } from '../helpers/redis'

const USD = 1_000_000_000
const T = Date.UTC(2026, 0, 15, 12, 0, 0)
let srv: RedisServer
const clients: Redis[] = []
const limits: SharedLimits[] = []
let holds: SharedHolds

beforeAll(async () => {
  srv = await startRedis()
  for (let i = 0; i < 4; i++) {
    const r = await openRedis({ url: srv.url, commandTimeoutMs: 2_000, prefix: 'at:' })
    clients.push(r)
    limits.push(createSharedLimits({ redis: r, calendar: createCalendar('UTC') }))
  }
  holds = createSharedHolds({ redis: clients[0]! })
})
afterAll(async () => {
  for (const c of clients) c.close()
  await srv.stop()
})
beforeEach(async () => {
  await clients[0]!.send('FLUSHALL', [])
})

let seq = 0
const lim = () => limits[0]!
const input = (over: Partial<Parameters<SharedLimits['reserve']>[0]> = {}) => ({
  scopes: [{ key: 'a:5', limits: { rpm: 30, tpm: 100_000 } }],
  caps: [{ key: 'a:5', cap: 1_000 }],
  estTokens: 100,
  callId: `c${++seq}`,
  nowMs: T,
  money: { accountId: 5, holdNano: 0.05 * USD, minNano: 0.1 * USD },
  ...over,
})

describe('one script for money and limits', () => {
  test('100 calls from 4 clients on a $2 account with RPM 30: 30 pass, money and windows agree', async () => {
    await holds.seed(5, 2 * USD)
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => limits[i % 4]!.reserve(input())),
    )
    expect(results.filter((r) => r.ok).length).toBe(30)
    expect(await holds.available(5)).toBe(2 * USD - 30 * 0.05 * USD)
    expect((await lim().usage('a:5', T)).rpm).toBe(30)
  })

  test('money runs out first: refused in words, and nothing is taken from the windows', async () => {
    await holds.seed(5, 0.2 * USD)
    const results = await Promise.all(Array.from({ length: 10 }, () => lim().reserve(input())))
    // $0.20 − $0.10 kept = two holds of $0.05.
    expect(results.filter((r) => r.ok).length).toBe(2)
    const refused = results.find((r) => !r.ok)!
    if (refused.ok || refused.code !== 'insufficient_balance') throw new Error('expected 402')
    expect(refused.availableNano).toBe(0.1 * USD)
    expect(refused.message).toContain('$0.05')
    expect(refused.message).toContain('CALL_MIN_BALANCE')
    expect((await lim().usage('a:5', T)).rpm).toBe(2)
  })

  test('a window denial takes no money; a missing counter is a miss that reserves nothing', async () => {
    const r0 = await lim().reserve(input())
    expect(r0).toEqual({ ok: false, code: 'money_miss', message: 'no money counter for account 5' })
    expect((await lim().usage('a:5', T)).rpm).toBe(0)
    expect(await holds.available(5)).toBeNull()
    await holds.seed(5, 1 * USD)
    const scopes = [{ key: 'a:5', limits: { rpm: 1 } }]
    const first = await lim().reserve(input({ scopes }))
    expect(first.ok && first.availableNano).toBe(0.95 * USD)
    const second = await lim().reserve(input({ scopes }))
    expect(!second.ok && second.code).toBe('rate_limit_exceeded')
    expect(await holds.available(5)).toBe(0.95 * USD)
  })

  test('settle gives back the hold less the cost with the tokens and slot; once', async () => {
    await holds.seed(5, 1 * USD)
    const caps = [{ key: 'a:5', cap: 1 }]
    const r = await lim().reserve(input({ caps }))
    if (!r.ok) throw new Error(r.message)
    await expect(lim().settle(r.reservation, 80)).rejects.toThrow('costNano')
    await limits[1]!.settle(r.reservation, 80, 0.01 * USD)
    expect(await holds.available(5)).toBe(0.99 * USD)
    expect((await lim().usage('a:5', T)).tpm).toBe(80)
    // Tokens may be settled again; money moves only once.
    await lim().settle(r.reservation, 90, 0.01 * USD)
    expect(await holds.available(5)).toBe(0.99 * USD)
    expect((await lim().usage('a:5', T)).tpm).toBe(90)
    expect((await lim().reserve(input({ caps }))).ok).toBe(true)
  })

  test('release gives back everything: the request, the tokens, the slot and the hold', async () => {
    await holds.seed(5, 1 * USD)
    const caps = [{ key: 'a:5', cap: 1 }]
    const r = await lim().reserve(input({ caps }))
    if (!r.ok) throw new Error(r.message)
    await lim().release(r.reservation)
    expect(await holds.available(5)).toBe(1 * USD)
    const use = await lim().usage('a:5', T)
    expect([use.rpm, use.tpm]).toEqual([0, 0])
    expect((await lim().reserve(input({ caps }))).ok).toBe(true)
  })

  test('a hold that is not whole nano-USD is refused by name before Redis is asked', async () => {
    await holds.seed(5, 1 * USD)
    const bad = input({ money: { accountId: 5, holdNano: 0.5, minNano: 0 } })
    await expect(lim().reserve(bad)).rejects.toThrow('holdNano')
    expect(await holds.available(5)).toBe(1 * USD)
    expect((await lim().usage('a:5', T)).rpm).toBe(0)
  })
})

describe('a quiet counter is made again from the books', () => {
  const QUIET_MS = 300
  const quietLimits = () => createSharedLimits({ redis: clients[0]!, calendar: createCalendar('UTC'), quietMs: QUIET_MS })
  const quietHolds = () => createSharedHolds({ redis: clients[0]!, quietMs: QUIET_MS })

  test('the holds of calls that never settle (their node died) come back once the counter is quiet', async () => {
    const l = quietLimits()
    const h = quietHolds()
    expect(await h.seed(5, 2 * USD)).toBe(true)
    const r = await l.reserve(input({ money: { accountId: 5, holdNano: USD, minNano: 0 } }))
    expect(r.ok).toBe(true)
    expect(await h.available(5)).toBe(USD)
    // Nobody settles: after the quiet time the counter is gone and the next call reseeds it.
    await Bun.sleep(QUIET_MS + 150)
    expect(await h.available(5)).toBeNull()
    const again = await l.reserve(input({ money: { accountId: 5, holdNano: USD, minNano: 0 } }))
    expect(again).toMatchObject({ ok: false, code: 'money_miss' })
  })

  test('admissions and settlements keep a busy counter alive', async () => {
    const l = quietLimits()
    const h = quietHolds()
    await h.seed(5, 10 * USD)
    for (let i = 0; i < 4; i++) {
      await Bun.sleep(QUIET_MS / 2)
      const r = await l.reserve(input({ money: { accountId: 5, holdNano: USD, minNano: 0 } }))
      if (!r.ok) throw new Error(r.message)
      await Bun.sleep(QUIET_MS / 2)
      await l.settle(r.reservation, 50, USD / 2)
    }
    // 4 calls at $0.50 each, 1.2 s after the seed: still the same counter.
    expect(await h.available(5)).toBe(8 * USD)
  })

  test('without quietMs a counter is kept however long it waits', async () => {
    const h = createSharedHolds({ redis: clients[0]! })
    await h.seed(5, USD)
    expect(await clients[0]!.send('PTTL', ['at:m:5'])).toBe(-1)
  })
})
