// The money rules in front of the upstream, through HTTP: the monthly HardLimit (429
// hard_limit_reached until the month turns in TZ) and CALL_MIN_BALANCE (402). Denied calls never
// reach the upstream and are never charged.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cardsNano, usageRows } from '../proxy/fixtures'
import { addUnder, chat, startLimitEnv, statuses, type LimitEnv } from './gatekit'

let env: LimitEnv
beforeAll(async () => {
  env = await startLimitEnv({ TZ: 'Europe/Berlin' })
})
afterAll(() => env.close())

// gpt-4o-mini: 12 × 0.15 + 8 × 0.6 USD per million tokens = 6,600 nano-USD a call at Rates 1.
const CALL_NANO = 6_600
// With max_tokens 8 a call holds 7,950 nano-USD (82 body characters are 21 prompt tokens, + 8 out):
// a HardLimit of 21,000 admits two calls one after the other, and refuses the third's hold.
const SMALL = { maxTokens: 8 }

describe('HardLimit', () => {
  test('spend reaching HardLimit → 429 hard_limit_reached, no upstream call, no charge', async () => {
    const { key, account } = await addUnder(env.gw, null, { hardLimitNano: 2 * CALL_NANO - 1 })
    // Spend reaches the limit (calls of earlier this month).
    env.gw.deps.limits.monthly.add(account.id, 2 * CALL_NANO)
    await env.gw.deps.flusher.flushNow()
    const cards = await cardsNano(env.gw, account.id)
    const upstream = env.up.tally.requests

    const denied = await chat(env.gw, key)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.body.error.code, denied.text).toBe('hard_limit_reached')
    const month = env.gw.deps.limits.monthly.calendar.month(env.clock.now())
    const resetAt = new Date(month.endMs).toISOString()
    expect(denied.body.error.message, denied.text).toContain(resetAt)
    expect(denied.headers.get('x-ratelimit-reset-month')).toBe(resetAt)
    const retry = Number(denied.headers.get('retry-after'))
    expect(retry).toBe(Math.ceil((month.endMs - env.clock.now()) / 1000))

    expect(env.up.tally.requests).toBe(upstream)
    expect(await cardsNano(env.gw, account.id)).toBe(cards)
    expect((await usageRows(env.gw, account.id)).length).toBe(0)
  })

  test("a call's hold counts against HardLimit: spend + holds may not pass it (429, retry shortly)", async () => {
    const { key, account } = await addUnder(env.gw, null, { hardLimitNano: 21_000 })
    expect(await statuses(env.gw, key, 2, SMALL)).toEqual([200, 200])
    expect(env.gw.deps.limits.monthly.get(account.id)).toBe(2 * CALL_NANO)
    const upstream = env.up.tally.requests
    const denied = await chat(env.gw, key, SMALL)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.body.error.code).toBe('hard_limit_reached')
    expect(denied.body.error.message).toContain('held by calls in flight')
    expect(denied.headers.get('retry-after')).toBe('1')
    expect(env.up.tally.requests).toBe(upstream)
    expect(env.gw.deps.holds.heldOf(account.id)).toBe(0)
  })

  test('the next local month starts from zero spend', async () => {
    const { key, account } = await addUnder(env.gw, null, { hardLimitNano: 21_000 })
    expect(await statuses(env.gw, key, 3, SMALL)).toEqual([200, 200, 429])
    const month = env.gw.deps.limits.monthly.calendar.month(env.clock.now())
    env.clock.set(month.endMs)
    expect(env.gw.deps.limits.monthly.get(account.id)).toBe(0)
    expect(await statuses(env.gw, key, 3, SMALL)).toEqual([200, 200, 429])
  })

  test('HardLimit 0 means no monthly cap', async () => {
    const { key } = await addUnder(env.gw, null, { hardLimitNano: 0 })
    expect(await statuses(env.gw, key, 3)).toEqual([200, 200, 200])
  })
})

describe('CALL_MIN_BALANCE', () => {
  test('a balance under 1 USD → 402 insufficient_balance, no upstream call, no usage row', async () => {
    const { key, account } = await addUnder(env.gw, null, { creditUsd: 0.5 })
    const upstream = env.up.tally.requests
    const r = await chat(env.gw, key)
    expect(r.status, r.text).toBe(402)
    expect(r.body.error.code, r.text).toBe('insufficient_balance')
    expect(env.up.tally.requests).toBe(upstream)
    expect((await usageRows(env.gw, account.id)).length).toBe(0)
    expect(await cardsNano(env.gw, account.id)).toBe(500_000_000)
  })

  test('at Rates 2 the floor is 2 book units: 1.5 is refused, 2.5 passes', async () => {
    const low = await addUnder(env.gw, null, { creditUsd: 1.5, rates: 2 })
    const ok = await addUnder(env.gw, null, { creditUsd: 2.5, rates: 2 })
    expect((await chat(env.gw, low.key)).status).toBe(402)
    expect((await chat(env.gw, ok.key)).status).toBe(200)
  })

  test('a denied call leaves the rate windows untouched', async () => {
    const { key, account } = await addUnder(env.gw, null, { creditUsd: 0.5, rpm: 5 })
    expect(await statuses(env.gw, key, 3)).toEqual([402, 402, 402])
    expect(env.gw.deps.limits.windows.usage(`a:${account.id}`).rpm).toBe(0)
  })
})
