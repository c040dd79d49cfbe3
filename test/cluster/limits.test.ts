// Shared limit windows on a real Redis: exact under concurrency from several clients, all or
// nothing across scopes, sliding with explicit times, tokens settled to the actual, concurrency
// slots capped across clients and expired when their node never settles.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { createCalendar } from '../../src/limits/daykey'
import {
  createSharedLimits,
  MINUTE_MS,
  type SharedLimits,
  type SharedReservation,
} from '../../src/cluster/limits'
import { openRedis, type Redis } from '../../src/cluster/redis'
import { startRedis, type RedisServer } from '../helpers/redis'

let srv: RedisServer
const clients: Redis[] = []
const shared: SharedLimits[] = []
const calendar = createCalendar('UTC')
/** 12:00:00 UTC, the start of a minute and of an hour. */
const T = Date.UTC(2026, 0, 15, 12, 0, 0)

beforeAll(async () => {
  srv = await startRedis()
  for (let i = 0; i < 4; i++) {
    const r = await openRedis({ url: srv.url, commandTimeoutMs: 2_000, prefix: 'lt:' })
    clients.push(r)
    shared.push(createSharedLimits({ redis: r, calendar }))
  }
})
afterAll(async () => {
  for (const c of clients) c.close()
  await srv.stop()
})
beforeEach(async () => {
  await clients[0]!.send('FLUSHALL', [])
})

const lim = () => shared[0]!
let seq = 0
const call = () => `call-${++seq}`
type Result = Awaited<ReturnType<SharedLimits['reserve']>>
const okOf = (r: Result): SharedReservation => {
  if (!r.ok) throw new Error(`denied: ${r.message}`)
  return r.reservation
}
/** The rate-limit denial `r` must be. */
const limited = (r: Result) => {
  if (r.ok || r.code !== 'rate_limit_exceeded') throw new Error(`expected a rate limit: ${r.ok}`)
  return r
}

describe('exactness', () => {
  test('200 parallel reservations from 4 clients against RPM 50 admit exactly 50', async () => {
    const scopes = [{ key: 'a:7', limits: { rpm: 50 } }]
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        shared[i % 4]!.reserve({
          scopes,
          estTokens: 0,
          callId: call(),
          nowMs: T + 10_000 + (i % 7),
        }),
      ),
    )
    const admitted = results.filter((r) => r.ok).length
    expect(admitted).toBe(50)
    for (const r of results) if (!r.ok) expect(r.code).toBe('rate_limit_exceeded')
    expect((await lim().usage('a:7', T + 10_010)).rpm).toBe(50)
  })

  test('a denial on an ancestor reserves nothing on the account', async () => {
    const scopes = [
      { key: 'a:2', limits: { rpm: 10, tpm: 1_000 } },
      { key: 'a:1', limits: { rph: 1 }, label: 'parent account' },
    ]
    okOf(await lim().reserve({ scopes, estTokens: 100, callId: call(), nowMs: T }))
    const denied = await lim().reserve({ scopes, estTokens: 100, callId: call(), nowMs: T + 1 })
    expect(denied.ok).toBe(false)
    if (denied.ok || denied.code !== 'rate_limit_exceeded') throw new Error('expected a rate limit')
    expect(denied.scope).toBe('a:1')
    expect(denied.window).toBe('rph')
    expect(denied.message).toContain('parent account')
    expect(denied.headers['x-ratelimit-window']).toBe('rph')
    const use = await lim().usage('a:2', T + 2)
    expect(use.rpm).toBe(1)
    expect(use.tpm).toBe(100)
  })

  test('the answer counts every limited window after the reservation, for the headers', async () => {
    const scopes = [{ key: 'a:3', limits: { rpm: 5, tpd: 10_000 } }]
    okOf(await lim().reserve({ scopes, estTokens: 40, callId: call(), nowMs: T }))
    const r = await lim().reserve({ scopes, estTokens: 60, callId: call(), nowMs: T + 5 })
    if (!r.ok) throw new Error(r.message)
    expect(r.counts).toEqual([
      { scope: 'a:3', window: 'rpm', limit: 5, used: 2 },
      { scope: 'a:3', window: 'tpd', limit: 10_000, used: 100 },
    ])
  })
})

describe('sliding', () => {
  test('the previous minute counts by the part of it still inside the window', async () => {
    const scopes = [{ key: 'a:4', limits: { rpm: 10 } }]
    const at = (nowMs: number) => lim().reserve({ scopes, estTokens: 0, callId: call(), nowMs })
    for (let i = 0; i < 10; i++) okOf(await at(T + 59_000))
    const full = await at(T + 59_500)
    expect(full.ok).toBe(false)
    // The next minute starts with the previous one weighing all of it: still full.
    const next = await at(T + MINUTE_MS)
    expect(next.ok).toBe(false)
    if (next.ok) return
    // Half-way through the next minute, the 10 weigh 5: five more pass, the sixth waits.
    const half = T + MINUTE_MS + 30_000
    for (let i = 0; i < 5; i++) okOf(await at(half))
    const sixth = limited(await at(half))
    expect(sixth.retryAfterMs).toBeGreaterThan(0)
    expect(sixth.retryAfterMs).toBeLessThanOrEqual(30_000)
    // The denial's wait is enough: at now + retryAfterMs the call passes.
    okOf(await at(half + sixth.retryAfterMs))
    // Two minutes on, nothing of the first minute counts any more.
    expect((await lim().usage('a:4', T + 3 * MINUTE_MS)).rpm).toBe(0)
  })

  test('a calendar day frees at its end, and the next day starts empty', async () => {
    const scopes = [{ key: 'a:5', limits: { rpd: 2 } }]
    const now = T + 3_600_000
    okOf(await lim().reserve({ scopes, estTokens: 0, callId: call(), nowMs: now }))
    okOf(await lim().reserve({ scopes, estTokens: 0, callId: call(), nowMs: now }))
    const d = limited(await lim().reserve({ scopes, estTokens: 0, callId: call(), nowMs: now }))
    expect(d.retryAfterMs).toBe(calendar.day(now).endMs - now)
    okOf(await lim().reserve({ scopes, estTokens: 0, callId: call(), nowMs: now + d.retryAfterMs }))
  })

  test('memory per window stays two cells however many calls and minutes go by', async () => {
    const scopes = [{ key: 'a:6', limits: { rpm: 1_000_000, rph: 1_000_000, tpd: 1e9 } }]
    for (let m = 0; m < 30; m++) {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          lim().reserve({ scopes, estTokens: 5, callId: call(), nowMs: T + m * MINUTE_MS }),
        ),
      )
    }
    // One hash per bucket however many calls it counts; every bucket carries a TTL of at most
    // two spans and a margin, so the keys alive are bounded by time, not by traffic.
    const keys = (await clients[0]!.send('KEYS', ['lt:w:a:6:*'])) as string[]
    const ttl = async (k: string) => Number(await clients[0]!.send('PTTL', [k]))
    const minutes = keys.filter((k) => k.includes(':m:'))
    expect(minutes.length).toBe(30)
    for (const k of minutes) expect(await ttl(k)).toBeLessThanOrEqual(3 * MINUTE_MS)
    for (const k of keys) expect(await ttl(k)).toBeGreaterThan(0)
    expect(keys.filter((k) => k.includes(':h:')).length).toBe(1)
    expect(keys.filter((k) => k.includes(':d:')).length).toBe(1)
    const counted = (await clients[0]!.send('HGETALL', [minutes[0]!])) as Record<string, string>
    expect(counted).toEqual({ r: '20', t: '100' })
  })
})

describe('tokens', () => {
  test('a call reserves its estimate and settles to the actual', async () => {
    const scopes = [{ key: 'a:8', limits: { tpm: 1_000 } }]
    const first = okOf(await lim().reserve({ scopes, estTokens: 600, callId: call(), nowMs: T }))
    const second = await lim().reserve({ scopes, estTokens: 600, callId: call(), nowMs: T + 1 })
    expect(second.ok).toBe(false)
    await shared[1]!.settle(first, 100)
    expect((await lim().usage('a:8', T + 2)).tpm).toBe(100)
    const third = okOf(
      await lim().reserve({ scopes, estTokens: 600, callId: call(), nowMs: T + 3 }),
    )
    await lim().settle(third, 900)
    expect((await lim().usage('a:8', T + 4)).tpm).toBe(1_000)
    // Settling again replaces again.
    await lim().settle(third, 50)
    expect((await lim().usage('a:8', T + 5)).tpm).toBe(150)
  })

  test('release takes back the request and the tokens, once', async () => {
    const scopes = [{ key: 'a:9', limits: { rpm: 5, tpm: 1_000 } }]
    const r = okOf(await lim().reserve({ scopes, estTokens: 300, callId: call(), nowMs: T }))
    await lim().release(r)
    await lim().release(r)
    await lim().settle(r, 999)
    const use = await lim().usage('a:9', T + 1)
    expect(use.rpm).toBe(0)
    expect(use.tpm).toBe(0)
  })

  test('an estimate above the whole limit passes only while the window is empty', async () => {
    const scopes = [{ key: 'a:10', limits: { tpm: 100 } }]
    okOf(await lim().reserve({ scopes, estTokens: 5_000, callId: call(), nowMs: T }))
    expect((await lim().reserve({ scopes, estTokens: 1, callId: call(), nowMs: T + 1 })).ok).toBe(
      false,
    )
  })

  test('per-model scopes (ModelLimits) are windows like any other', async () => {
    const scopes = [
      { key: 'a:11', limits: { rpm: 100 } },
      { key: 'a:11:m:gpt-4o*', limits: { rpm: 2, tpm: 0 }, label: 'this account, model gpt-4o*' },
    ]
    okOf(await lim().reserve({ scopes, estTokens: 0, callId: call(), nowMs: T }))
    okOf(await lim().reserve({ scopes, estTokens: 0, callId: call(), nowMs: T }))
    const d = await lim().reserve({ scopes, estTokens: 0, callId: call(), nowMs: T })
    if (d.ok || d.code !== 'rate_limit_exceeded') throw new Error('expected a model denial')
    expect(d.scope).toBe('a:11:m:gpt-4o*')
    expect((await lim().usage('a:11', T)).rpm).toBe(2)
  })
})

describe('concurrency', () => {
  test('slots cap calls in flight across clients; settling frees one', async () => {
    const caps = [{ key: 'a:20', cap: 3, label: 'parent account' }]
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        shared[i % 4]!.reserve({ scopes: [], caps, estTokens: 0, callId: call(), nowMs: T }),
      ),
    )
    const held = results.filter((r) => r.ok).map(okOf)
    expect(held.length).toBe(3)
    const busy = results.find((r) => !r.ok)!
    if (busy.ok) return
    expect(busy.code).toBe('concurrency_limit_exceeded')
    expect(busy.message).toContain('Concurrency of parent account')
    await shared[2]!.settle(held[0]!, 10)
    okOf(await lim().reserve({ scopes: [], caps, estTokens: 0, callId: call(), nowMs: T + 1 }))
    expect(
      (await lim().reserve({ scopes: [], caps, estTokens: 0, callId: call(), nowMs: T + 2 })).ok,
    ).toBe(false)
  })

  test('slots of calls that never settle (their node died) expire with their lease', async () => {
    const caps = [{ key: 'a:21', cap: 2 }]
    for (let i = 0; i < 2; i++) {
      okOf(
        await lim().reserve({
          scopes: [],
          caps,
          estTokens: 0,
          callId: call(),
          nowMs: T,
          leaseMs: 5_000,
        }),
      )
    }
    expect(
      (await lim().reserve({ scopes: [], caps, estTokens: 0, callId: call(), nowMs: T + 4_999 }))
        .ok,
    ).toBe(false)
    okOf(await lim().reserve({ scopes: [], caps, estTokens: 0, callId: call(), nowMs: T + 5_001 }))
  })

  test('a call that renews its lease keeps its slot past the first lease; one that lapsed is told', async () => {
    const caps = [{ key: 'a:23', cap: 1 }]
    const at = (nowMs: number) =>
      lim().reserve({ scopes: [], caps, estTokens: 0, callId: call(), nowMs, leaseMs: 5_000 })
    const long = okOf(await at(T))
    expect(await shared[3]!.renew(long, T + 4_000)).toBe(true)
    expect((await at(T + 8_000)).ok).toBe(false)
    // Not renewed again: the lease ends at T + 9 s and the slot goes to another call.
    okOf(await at(T + 9_001))
    expect(await lim().renew(long, T + 9_500)).toBe(false)
  })

  test('a busy slot reserves nothing in the windows', async () => {
    const scopes = [{ key: 'a:22', limits: { rpm: 10 } }]
    const caps = [{ key: 'a:22', cap: 1 }]
    okOf(await lim().reserve({ scopes, caps, estTokens: 0, callId: call(), nowMs: T }))
    expect((await lim().reserve({ scopes, caps, estTokens: 0, callId: call(), nowMs: T })).ok).toBe(
      false,
    )
    expect((await lim().usage('a:22', T)).rpm).toBe(1)
  })
})
