// Each window through HTTP against a running gateway on a fake clock: RPM at 59 s and 61 s, RPH at
// 59 and 61 minutes, RPD at midnight in a non-UTC zone, token windows reserving and settling.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { estimatePromptTokens } from '../../src/billing/tokens'
import { reserveTokens } from '../../src/limits/estimate'
import { addUnder, chat, MIN, S, startLimitEnv, statuses, type LimitEnv } from './gatekit'

const HOUR = 60 * MIN
const DAY = 24 * HOUR

describe('RPM and RPH: sliding windows', () => {
  let env: LimitEnv
  beforeAll(async () => {
    env = await startLimitEnv()
  })
  afterAll(() => env.close())

  test('RPM 2: the third call in a minute is 429 with headers; still at 59 s, through at 61 s', async () => {
    const { key, account } = await addUnder(env.gw, null, { rpm: 2 })
    const before = env.up.tally.requests
    expect(await statuses(env.gw, key, 2)).toEqual([200, 200])
    const denied = await chat(env.gw, key)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.body.error.code, denied.text).toBe('rate_limit_exceeded')
    expect(denied.body.error.message, denied.text).toContain('this account')
    const h = denied.headers
    expect(Number(h.get('retry-after')), denied.text).toBeGreaterThanOrEqual(60)
    expect(Number(h.get('retry-after')), denied.text).toBeLessThanOrEqual(61)
    expect(h.get('x-ratelimit-limit-requests')).toBe('2')
    expect(h.get('x-ratelimit-remaining-requests')).toBe('0')
    expect(h.get('x-ratelimit-reset-requests')).toMatch(/^1m|^60|^59/)
    expect(h.get('x-ratelimit-window')).toBe('rpm')
    expect(h.get('x-ratelimit-scope')).toBe('this account')
    expect(env.up.tally.requests - before, 'denied calls never reach upstream').toBe(2)

    env.clock.advance(59 * S)
    const still = await chat(env.gw, key)
    expect(still.status, still.text).toBe(429)
    expect(Number(still.headers.get('retry-after'))).toBeLessThanOrEqual(2)
    env.clock.advance(2 * S)
    const again = await chat(env.gw, key)
    expect(again.status, again.text).toBe(200)
    expect(env.gw.deps.limits.windows.usage(`a:${account.id}`).rpm).toBe(1)
  })

  test('RPH 1: denied 59 minutes later, admitted 61 minutes later', async () => {
    const { key } = await addUnder(env.gw, null, { rph: 1 })
    expect((await chat(env.gw, key)).status).toBe(200)
    env.clock.advance(59 * MIN)
    const denied = await chat(env.gw, key)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.headers.get('x-ratelimit-window')).toBe('rph')
    expect(Number(denied.headers.get('retry-after'))).toBeLessThanOrEqual(120)
    env.clock.advance(2 * MIN)
    const ok = await chat(env.gw, key)
    expect(ok.status, ok.text).toBe(200)
  })

  test('root is never limited, whatever its own fields say', async () => {
    await env.gw.deps.sql.run('UPDATE accounts SET rpm = 1, rpd = 1 WHERE id = 1')
    env.gw.deps.events.accountChanged({ id: 1, name: 'root', dna: '.1.' })
    expect(await statuses(env.gw, env.gw.rootKey, 3)).toEqual([200, 200, 200])
  })
})

describe('RPD: the calendar day in TZ', () => {
  const TZ_OFFSET = 8 * HOUR // Asia/Shanghai, no daylight saving time
  const now = Date.now()
  const localMidnight = Math.ceil((now + TZ_OFFSET) / DAY) * DAY - TZ_OFFSET
  let env: LimitEnv
  beforeAll(async () => {
    env = await startLimitEnv({ TZ: 'Asia/Shanghai' }, { startMs: localMidnight - 30 * S + DAY })
  })
  afterAll(() => env.close())

  test('RPD 2 resets at local midnight, Retry-After counts down to it', async () => {
    const { key } = await addUnder(env.gw, null, { rpd: 2 })
    expect(await statuses(env.gw, key, 2)).toEqual([200, 200])
    const denied = await chat(env.gw, key)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.headers.get('x-ratelimit-window')).toBe('rpd')
    expect(denied.headers.get('retry-after')).toBe('30')
    expect(denied.headers.get('x-ratelimit-reset-requests')).toBe('30s')
    env.clock.advance(29 * S)
    expect((await chat(env.gw, key)).status).toBe(429)
    env.clock.advance(2 * S)
    const ok = await chat(env.gw, key)
    expect(ok.status, ok.text).toBe(200)
  })

  test('UTC midnight is not a reset in Asia/Shanghai', async () => {
    const utcMidnight = Math.ceil((env.clock.now() + 1) / DAY) * DAY
    env.clock.set(utcMidnight - 30 * S)
    const { key } = await addUnder(env.gw, null, { rpd: 1 })
    expect((await chat(env.gw, key)).status).toBe(200)
    env.clock.advance(60 * S)
    const denied = await chat(env.gw, key)
    expect(denied.status, denied.text).toBe(429)
    // The next local midnight is 16 hours after UTC midnight.
    expect(Number(denied.headers.get('retry-after'))).toBe(16 * 3600 - 30)
  })
})

describe('token windows', () => {
  let env: LimitEnv
  beforeAll(async () => {
    env = await startLimitEnv()
  })
  afterAll(() => env.close())
  const used = (id: number) => env.gw.deps.limits.windows.usage(`a:${id}`)

  test('TPM counts the real totals once settled (12 + 8 tokens per call here)', async () => {
    const { key, account } = await addUnder(env.gw, null, { tpm: 45 })
    expect(await statuses(env.gw, key, 2)).toEqual([200, 200])
    expect(used(account.id).tpm).toBe(40)
    const denied = await chat(env.gw, key)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.headers.get('x-ratelimit-window')).toBe('tpm')
    expect(denied.headers.get('x-ratelimit-limit-tokens')).toBe('45')
    expect(denied.headers.get('x-ratelimit-remaining-tokens')).toBe('5')
    env.clock.advance(61 * S)
    expect((await chat(env.gw, key)).status).toBe(200)
  })

  test('max_tokens is reserved up front: a second large request waits, a small one passes', async () => {
    const { key, account } = await addUnder(env.gw, null, { tpm: 100 })
    const est = reserveTokens(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 90 },
      estimatePromptTokens,
    )
    expect(est).toBeGreaterThan(90)
    expect((await chat(env.gw, key, { maxTokens: 90 })).status).toBe(200)
    expect(used(account.id).tpm).toBe(20)
    const big = await chat(env.gw, key, { maxTokens: 90 })
    expect(big.status, big.text).toBe(429)
    expect((await chat(env.gw, key)).status).toBe(200)
  })

  test('the completion part of the estimate is capped: max_tokens 1e6 does not need a whole window', async () => {
    const { key } = await addUnder(env.gw, null, { tpm: 5000 })
    expect((await chat(env.gw, key)).status).toBe(200)
    const r = await chat(env.gw, key, { maxTokens: 1_000_000 })
    expect(r.status, r.text).toBe(200)
  })

  test('TPD in UTC by default counts the day; a call over it waits until midnight', async () => {
    const { key } = await addUnder(env.gw, null, { tpd: 25 })
    expect((await chat(env.gw, key)).status).toBe(200)
    const denied = await chat(env.gw, key)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.headers.get('x-ratelimit-window')).toBe('tpd')
    const toMidnight = Math.ceil(env.clock.now() / DAY) * DAY - env.clock.now()
    expect(Number(denied.headers.get('retry-after'))).toBe(Math.ceil(toMidnight / 1000))
  })
})
