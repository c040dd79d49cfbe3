// Deleting an account while its calls run: the refund is the balance less open holds now; each
// call settles against its hold when it ends and what the holds leave goes to the parent, so
// the parent's refunds plus the calls' costs are the balance at delete less the $0.20 fee.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call } from '../helpers/gateway'
import { startProxyEnv, until, usageRows, type ProxyEnv } from '../proxy/fixtures'
import { child, USD } from './helpers'

const PRICES = JSON.stringify({ 'gpt-4o': { input: 50_000, output: 50_000 } })
const FEE = 200_000_000

let env: ProxyEnv
beforeAll(async () => {
  env = await startProxyEnv(
    {
      MODEL_PRICES: PRICES,
      CALL_MIN_BALANCE: '0',
      USER_MIN_BALANCE: '0',
      USER_API_MIN_BALANCE: '0',
    },
    { chunks: 6, chunkDelayMs: 80 },
  )
})
afterAll(() => env.close())

const balance = async (id: number) => {
  await env.gw.deps.flusher.flushNow()
  env.gw.deps.billing.ledger.forget(id)
  await env.gw.deps.billing.ledger.warm(id)
  return env.gw.deps.billing.ledger.balanceOf(id)
}
const BODY = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 }

async function books() {
  const repo = env.gw.deps.accounts.service.cards
  expect(await env.gw.deps.accounts.service.cards.invariantViolations()).toEqual([])
  expect(await repo.conservationViolations()).toEqual([])
}

describe('delete with calls in flight', () => {
  for (const calls of [1, 3]) {
    test(`${calls} stream(s) running: refund now, the rest when they end, to the nano-dollar`, async () => {
      const parent = await child(env, env.gw.rootKey, 100)
      const kid = await child(env, parent.key, 10)
      const parentBefore = await balance(parent.id)
      const streams = Array.from({ length: calls }, () =>
        fetch(`${env.gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${kid.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...BODY, stream: true }),
        }),
      )
      const responses = await Promise.all(streams)
      for (const r of responses) expect(r.status).toBe(200)
      await until(() => env.gw.deps.holds.callsOf(kid.id) === calls)
      const held = env.gw.deps.holds.heldOf(kid.id)
      expect(held).toBeGreaterThan(0)

      const del = await call(env.gw, 'DELETE', `/x-users/${kid.id}`, { key: parent.key })
      expect(del.status, del.text).toBe(200)
      const atDelete = Math.round(del.body.User.Balance * USD)
      expect(atDelete).toBe(10 * USD)
      expect(Math.round(del.body.User.Held * USD)).toBe(held)
      expect(Math.round(del.body.User.Refund * USD)).toBe(atDelete - held - FEE)
      expect(await balance(parent.id) - parentBefore).toBe(atDelete - held - FEE)

      // The streams go on to their end and are charged against their holds.
      const texts = await Promise.all(responses.map((r) => r.text()))
      for (const t of texts) expect(t).toContain('[DONE]')
      await until(() => env.gw.deps.holds.totals().escrows === 0)
      const costs = (await usageRows(env.gw, kid.id)).reduce((s, r) => s + r.cost_nano, 0)
      expect(await usageRows(env.gw, kid.id)).toHaveLength(calls)
      expect(costs).toBe(calls * 20 * 50_000_000)
      expect(await balance(parent.id) - parentBefore + costs).toBe(atDelete - FEE)
      expect(env.gw.logLines.some((l) => String(l.msg).includes('deleted account dropped'))).toBe(
        false,
      )
      await books()
    })
  }

  test('no alert mail for a deleted account when its last calls settle', async () => {
    const parent = await child(env, env.gw.rootKey, 100)
    // SoftLimit $0.50: the call's $1.00 crosses it, which mails the account.
    const kid = await child(env, parent.key, 10, { SoftLimit: 0.5, HardLimit: 100 })
    const res = await fetch(`${env.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${kid.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...BODY, stream: true }),
    })
    expect(res.status).toBe(200)
    await until(() => env.gw.deps.holds.callsOf(kid.id) === 1)
    const del = await call(env.gw, 'DELETE', `/x-users/${kid.id}`, { key: parent.key })
    expect(del.status, del.text).toBe(200)
    await res.text()
    await until(() => env.gw.deps.holds.totals().escrows === 0)
    await Bun.sleep(50)
    const mails = env.gw.logLines.filter((l) => String(l.to ?? '').includes(kid.name))
    expect(mails).toEqual([])

    // The same call on a live account does mail (so the check above can fail).
    const live = await child(env, parent.key, 10, { SoftLimit: 0.5, HardLimit: 100 })
    const r = await fetch(`${env.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${live.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(BODY),
    })
    expect(r.status).toBe(200)
    await until(() => env.gw.logLines.some((l) => String(l.to ?? '').includes(live.name)))
  })

  test("a subtree deleted mid-call: the grandchild's leftover reaches the surviving ancestor", async () => {
    const top = await child(env, env.gw.rootKey, 100)
    const mid = await child(env, top.key, 20)
    const leaf = await child(env, mid.key, 10)
    const topBefore = await balance(top.id)
    const res = await fetch(`${env.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${leaf.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...BODY, stream: true }),
    })
    expect(res.status).toBe(200)
    await until(() => env.gw.deps.holds.callsOf(leaf.id) === 1)
    const held = env.gw.deps.holds.heldOf(leaf.id)
    const del = await call(env.gw, 'DELETE', `/x-users/${mid.id}`, { key: top.key })
    expect(del.status, del.text).toBe(200)
    expect(del.body.User.Deleted).toBe(2)
    await res.text()
    await until(() => env.gw.deps.holds.totals().escrows === 0)
    const cost = (await usageRows(env.gw, leaf.id))[0].cost_nano
    // mid: its 10 (20 − 10 paid for leaf) − fee; leaf: (10 − held − fee) into mid, then mid's
    // whole balance up − fee; the leaf's leftover (held − cost) arrives later with no fee.
    const midRefund = 10 * USD + (10 * USD - held - FEE) - FEE
    expect(await balance(top.id) - topBefore).toBe(midRefund + held - cost)
    await books()
  })
})
