// Check-and-reserve is one synchronous step: concurrent calls through HTTP never overshoot a limit,
// for one account, across a subtree, and for token reservations held while calls are in flight.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { estimatePromptTokens } from '../../src/billing/tokens'
import { reserveTokens } from '../../src/limits/estimate'
import { usageRows } from '../proxy/fixtures'
import { addUnder, chat, startLimitEnv, type LimitEnv } from './gatekit'

let env: LimitEnv
beforeAll(async () => {
  // Upstream answers take a while, so every call of a burst is in flight at once.
  env = await startLimitEnv({}, { fake: { latencyMs: 40 } })
})
afterAll(() => env.close())

function count(rs: Array<{ status: number }>) {
  const out: Record<number, number> = {}
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1
  return out
}

describe('concurrency exactness', () => {
  test('200 concurrent calls against RPM 50: exactly 50 reach the upstream, 150 get 429', async () => {
    const { key, account } = await addUnder(env.gw, null, { rpm: 50 })
    const before = env.up.tally.requests
    const rs = await Promise.all(Array.from({ length: 200 }, () => chat(env.gw, key)))
    expect(count(rs), JSON.stringify(count(rs))).toEqual({ 200: 50, 429: 150 })
    expect(env.up.tally.requests - before).toBe(50)
    const denied = rs.find((r) => r.status === 429)!
    expect(denied.body.error.code, denied.text).toBe('rate_limit_exceeded')
    expect((await usageRows(env.gw, account.id)).length, 'only admitted calls are recorded').toBe(50)
  })

  test("two children bursting against their parent's RPM 30 get 30 between them", async () => {
    const parent = await addUnder(env.gw, null, { rpm: 30 })
    const a = await addUnder(env.gw, parent.account)
    const b = await addUnder(env.gw, parent.account)
    const before = env.up.tally.requests
    const rs = await Promise.all(
      Array.from({ length: 120 }, (_, i) => chat(env.gw, i % 2 ? a.key : b.key)),
    )
    expect(count(rs)).toEqual({ 200: 30, 429: 90 })
    expect(env.up.tally.requests - before).toBe(30)
  })

  test('token reservations held in flight: TPM 1000 admits floor(1000 / estimate) of a burst', async () => {
    const { key } = await addUnder(env.gw, null, { tpm: 1000 })
    const est = reserveTokens(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 90 },
      estimatePromptTokens,
    )
    const rs = await Promise.all(
      Array.from({ length: 40 }, () => chat(env.gw, key, { maxTokens: 90 })),
    )
    expect(count(rs)[200], `estimate ${est}: ${JSON.stringify(count(rs))}`).toBe(
      Math.floor(1000 / est),
    )
  })
})
