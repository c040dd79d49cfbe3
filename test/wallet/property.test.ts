// Property: random batches of concurrent calls (stream or not, OpenAI or Anthropic surface) mixed
// with fundings, deductions, re-rates and deletes keep `xgate check` green (cards == ledger,
// conservation between accounts), close every hold, and never leave a balance below zero while
// usage stays within the holds' estimates.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import fc from 'fast-check'
import { call } from '../helpers/gateway'
import { startProxyEnv, until, type ProxyEnv } from '../proxy/fixtures'
import { child, USD } from './helpers'

// Expensive enough that a few calls drain an account: gpt-4o-mini at 20,000 USD/M in and out,
// claude-haiku at 30,000. The fake provider reports 12 prompt + 8 completion tokens a call, within
// every hold below (max_tokens 16, and a body of more than 48 characters).
const PRICES = JSON.stringify({
  'gpt-4o-mini': { input: 20_000, output: 20_000 },
  'claude-haiku-4-5': { input: 30_000, output: 30_000 },
})

let env: ProxyEnv
beforeAll(async () => {
  env = await startProxyEnv(
    {
      MODEL_PRICES: PRICES,
      CALL_MIN_BALANCE: '0',
      USER_MIN_BALANCE: '0',
      USER_API_MIN_BALANCE: '0',
    },
    { chunks: 3, chunkDelayMs: 5, latencyMs: 5 },
  )
})
afterAll(() => env.close())

type Acct = { id: number; key: string; alive: boolean }

const op = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      who: fc.nat(),
      /** Copies sent at once. */
      n: fc.integer({ min: 1, max: 6 }),
      stream: fc.boolean(),
      anthropic: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('fund' as const),
      who: fc.nat(),
      usd: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deduct' as const),
      who: fc.nat(),
      usd: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rerate' as const),
      who: fc.nat(),
      rates: fc.constantFrom(1, 1.5, 2),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), who: fc.nat() }) },
)

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

async function run(a: Acct, parentKey: string, o: Op): Promise<number> {
  switch (o.kind) {
    case 'call': {
      const content = 'x'.repeat(40)
      const path = o.anthropic ? '/v1/messages' : '/v1/chat/completions'
      const body = o.anthropic
        ? {
            model: 'claude-haiku-4-5',
            max_tokens: 16,
            stream: o.stream,
            messages: [{ role: 'user', content }],
          }
        : {
            model: 'gpt-4o-mini',
            max_tokens: 16,
            stream: o.stream,
            messages: [{ role: 'user', content }],
          }
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (o.anthropic) {
        headers['x-api-key'] = a.key
        headers['anthropic-version'] = '2023-06-01'
      } else headers.authorization = `Bearer ${a.key}`
      const res = await fetch(env.gw.url + path, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      })
      await res.text()
      return res.status
    }
    case 'fund':
      return (
        await call(env.gw, 'PUT', `/x-users/${a.id}`, {
          key: parentKey,
          body: { CreditGranted: o.usd },
        })
      ).status
    case 'deduct':
      return (
        await call(env.gw, 'PUT', `/x-users/${a.id}`, {
          key: parentKey,
          body: { CreditGranted: -o.usd },
        })
      ).status
    case 'rerate':
      return (
        await call(env.gw, 'PUT', `/x-users/${a.id}`, { key: parentKey, body: { Rates: o.rates } })
      ).status
    case 'delete': {
      const r = await call(env.gw, 'DELETE', `/x-users/${a.id}`, { key: parentKey })
      if (r.status === 200) a.alive = false
      return r.status
    }
  }
}

const ALLOWED: Record<string, number[]> = {
  // 429: a HardLimit (10 × CreditGranted by default) that spend + holds would pass.
  call: [200, 401, 402, 429],
  fund: [200, 402, 404],
  deduct: [200, 400, 404],
  rerate: [200, 404, 409],
  delete: [200, 404],
}

test('concurrent calls and money moves keep the books and never overdraw', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(op, { minLength: 3, maxLength: 10 }), { minLength: 1, maxLength: 4 }),
      async (batches) => {
        const parent = await child(env, env.gw.rootKey, 200)
        const kids: Acct[] = []
        for (let i = 0; i < 3; i++)
          kids.push({ ...(await child(env, parent.key, 1 + i)), alive: true })
        for (const batch of batches) {
          const sends = batch.flatMap((o) =>
            Array.from({ length: o.kind === 'call' ? o.n : 1 }, () => o),
          )
          const statuses = await Promise.all(
            sends.map(async (o) => {
              const a = kids[o.who % kids.length]!
              return [o.kind, await run(a, parent.key, o)] as const
            }),
          )
          for (const [kind, status] of statuses)
            expect(ALLOWED[kind], `${kind} answered ${status}`).toContain(status)
        }
        await until(() => env.gw.deps.holds.totals().calls === 0, 5000)
        await env.gw.deps.flusher.flushNow()
        expect(await env.gw.deps.accounts.service.cards.invariantViolations()).toEqual([])
        expect(await env.gw.deps.accounts.service.cards.conservationViolations()).toEqual([])
        expect(env.gw.deps.holds.totals().heldNano).toBe(0)
        for (const a of [parent, ...kids.filter((k) => k.alive)]) {
          env.gw.deps.billing.ledger.forget(a.id)
          const b = env.gw.deps.billing.ledger.balanceOf(a.id)
          expect(b, `balance of account ${a.id}`).toBeGreaterThanOrEqual(0)
        }
        // The parent paid for everything its children had: at most its 200 USD left the books.
        expect(env.gw.deps.billing.ledger.balanceOf(parent.id)).toBeLessThanOrEqual(200 * USD)
      },
    ),
    { numRuns: 20 },
  )
}, 120_000)
