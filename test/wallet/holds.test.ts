// Admission holds through HTTP: parallel calls on a small prepaid balance are admitted only as far
// as their holds fit, the balance never goes below zero, every hold closes when its call settles,
// and the figures show on the account and in /metrics.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call } from '../helpers/gateway'
import { startProxyEnv, until, usageRows, type ProxyEnv } from '../proxy/fixtures'
import { child as makeChild, USD } from './helpers'

// gpt-4o at 50,000 USD per million tokens in and out: $0.05 (50,000,000 nano-USD) a token.
const PRICE_PER_TOKEN = 50_000_000
const PRICES = JSON.stringify({ 'gpt-4o': { input: 50_000, output: 50_000 } })

let env: ProxyEnv
beforeAll(async () => {
  env = await startProxyEnv(
    { MODEL_PRICES: PRICES, CALL_MIN_BALANCE: '0', USER_MIN_BALANCE: '0' },
    { latencyMs: 150 },
  )
})
afterAll(() => env.close())

const root = () => env.gw.rootKey
/** A child of root with `credit` USD. */
const child = (credit: number, extra: Record<string, unknown> = {}) =>
  makeChild(env, root(), credit, extra)

const BODY = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }
/** The hold of BODY: a token per 4 body characters, plus max_tokens, at the price. */
const HOLD = (Math.ceil(JSON.stringify(BODY).length / 4) + 5) * PRICE_PER_TOKEN
/** What the fake upstream reports: 12 prompt + 8 completion tokens. */
const COST = 20 * PRICE_PER_TOKEN

const chat = (key: string, body: unknown = BODY) =>
  call(env.gw, 'POST', '/v1/chat/completions', { key, body })

const balance = (id: number) => env.gw.deps.billing.ledger.balanceOf(id)

describe('holds', () => {
  for (const credit of [2, 4]) {
    test(`8 parallel calls on $${credit}: exactly as many run as their holds fit, balance ≥ 0`, async () => {
      const a = await child(credit)
      const before = env.up.tally.requests
      const replies = await Promise.all(Array.from({ length: 8 }, () => chat(a.key)))
      const fit = Math.floor((credit * USD) / HOLD)
      const ok = replies.filter((r) => r.status === 200)
      const refused = replies.filter((r) => r.status === 402)
      expect(ok.length, replies.map((r) => r.status).join(',')).toBe(fit)
      expect(refused.length).toBe(8 - fit)
      for (const r of refused) {
        expect(r.body.error.code).toBe('insufficient_balance')
        expect(r.body.error.message).toContain('is free')
        expect(r.body.error.message).toContain('held by calls in flight')
      }
      expect(env.up.tally.requests - before).toBe(fit)
      expect(balance(a.id)).toBe(credit * USD - fit * COST)
      expect(balance(a.id)).toBeGreaterThanOrEqual(0)
      expect(env.gw.deps.holds.heldOf(a.id)).toBe(0)
      expect(env.gw.deps.holds.callsOf(a.id)).toBe(0)
    })
  }

  test('the 402 names what the call needs and what is free', async () => {
    const a = await child(1)
    const r = await chat(a.key, { ...BODY, max_tokens: 100_000 })
    expect(r.status, r.text).toBe(402)
    // max_tokens above the model's most output (gpt-4o: 16,384 in the catalogue) holds that most.
    const most = env.gw.deps.billing.pricing().lookup('gpt-4o')!.maxOutputTokens!
    expect(most).toBe(16_384)
    const need =
      (Math.ceil(JSON.stringify({ ...BODY, max_tokens: 100_000 }).length / 4) + most) *
      PRICE_PER_TOKEN
    expect(r.body.error.message).toContain(`needs up to $${(need / USD).toFixed(2)};`)
    expect(r.body.error.message).toContain('$1.00 is free')
    expect(await usageRows(env.gw, a.id)).toHaveLength(0)
  })

  test('without max_tokens the hold takes the configured default output (HOLD_DEFAULT_OUTPUT_TOKENS)', async () => {
    // 16,384 output tokens at 50,000 USD/M are $819.20: a $100 account may not start the call.
    const a = await child(100)
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }
    const r = await chat(a.key, body)
    expect(r.status, r.text).toBe(402)
    const need = (Math.ceil(JSON.stringify(body).length / 4) + 16_384) * PRICE_PER_TOKEN
    expect(r.body.error.message).toContain(`needs up to $${(need / USD).toFixed(2)};`)
  })

  test('Held and InFlight while calls run; /metrics totals; all back to zero after', async () => {
    const a = await child(10)
    const running = Promise.all([chat(a.key), chat(a.key)])
    await until(() => env.gw.deps.holds.callsOf(a.id) === 2)
    const u = await call(env.gw, 'GET', `/x-users/${a.id}`, { key: root() })
    expect(u.status, u.text).toBe(200)
    const user = Array.isArray(u.body) ? u.body[0] : u.body
    expect(user.Held).toBe((2 * HOLD) / USD)
    expect(user.InFlight).toBe(2)
    const info = await call(env.gw, 'GET', '/dashboard/x-user-info', { key: a.key })
    expect(info.status, info.text).toBe(200)
    expect(info.body.Held).toBe((2 * HOLD) / USD)
    expect(info.body.InFlight).toBe(2)
    const m = await fetch(`${env.gw.url}/metrics`, {
      headers: { authorization: `Bearer ${root()}` },
    })
    const text = await m.text()
    expect(text).toMatch(/xgate_holds_usd(\{[^}]*\})? [1-9]/)
    expect(text).toMatch(/xgate_holds_calls(\{[^}]*\})? [1-9]/)
    const done = await running
    for (const r of done) expect(r.status).toBe(200)
    expect(env.gw.deps.holds.heldOf(a.id)).toBe(0)
    const after = await call(env.gw, 'GET', `/x-users/${a.id}`, { key: root() })
    const again = Array.isArray(after.body) ? after.body[0] : after.body
    expect(again.Held).toBe(0)
    expect(again.InFlight).toBe(0)
  })

  test('a call denied after its hold (rate limit) gives the hold back', async () => {
    const a = await child(10, { RPM: 1 })
    expect((await chat(a.key)).status).toBe(200)
    const r = await chat(a.key)
    expect(r.status, r.text).toBe(429)
    expect(env.gw.deps.holds.heldOf(a.id)).toBe(0)
    expect(env.gw.deps.holds.callsOf(a.id)).toBe(0)
  })

  test('an upstream failure closes the hold with nothing charged', async () => {
    const a = await child(10)
    env.up.setBehavior(() => ({ status: 500 }))
    try {
      const r = await chat(a.key)
      expect(r.status).toBeGreaterThanOrEqual(500)
    } finally {
      env.up.setBehavior(undefined)
    }
    expect(env.gw.deps.holds.heldOf(a.id)).toBe(0)
    expect(balance(a.id)).toBe(10 * USD)
  })

  test('root is never held: its calls run whatever the price', async () => {
    const r = await chat(root(), { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    expect(r.status, r.text).toBe(200)
    expect(env.gw.deps.holds.heldOf(1)).toBe(0)
  })
})
