// Concurrency caps: an account's Concurrency counts the calls in flight of its whole subtree and
// is capped down the tree like RPM; an upstream key's Concurrency makes the pool pass it by, and
// every key full is a 429 the client may retry, never a 503.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call } from '../helpers/gateway'
import { startProxyEnv, type ProxyEnv } from '../proxy/fixtures'
import { child, peakWhile, streamChat } from './helpers'

let env: ProxyEnv
beforeAll(async () => {
  env = await startProxyEnv(
    { CALL_MIN_BALANCE: '0', USER_MIN_BALANCE: '0', USER_API_MIN_BALANCE: '0' },
    { chunks: 4, chunkDelayMs: 60 },
  )
})
afterAll(() => env.close())

/** One object whether a read answers it alone or in a list. */
const one = (body: any) => (Array.isArray(body) ? body[0] : body)

const BODY = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 }

describe('account Concurrency', () => {
  test("200 parallel slow streams under a parent's Concurrency 10: never more than 10 upstream", async () => {
    const parent = await child(env, env.gw.rootKey, 1000, { Concurrency: 10 })
    const a = await child(env, parent.key, 100, { Concurrency: 0 })
    const b = await child(env, parent.key, 100)
    expect(
      one((await call(env.gw, 'GET', `/x-dna/${b.id}`, { key: parent.key })).body).Concurrency,
    ).toBe(10)
    const before = env.up.tally.requests
    const [peak, replies] = await peakWhile(
      () => env.up.tally.inFlight,
      Promise.all(
        Array.from({ length: 200 }, (_, i) => streamChat(env, i % 2 ? a.key : b.key, BODY)),
      ),
    )
    const ok = replies.filter((r) => r.status === 200)
    const capped = replies.filter((r) => r.status === 429)
    expect(ok.length + capped.length).toBe(200)
    expect(peak).toBeLessThanOrEqual(10)
    expect(ok.length).toBeGreaterThanOrEqual(10)
    expect(env.up.tally.requests - before).toBe(ok.length)
    for (const r of capped) {
      expect(JSON.parse(r.text).error.code).toBe('concurrency_limit_exceeded')
      expect(r.headers.get('retry-after')).toBe('1')
    }
    for (const r of ok) expect(r.text).toContain('[DONE]')
    // Every slot came back: the next ten run together.
    expect(env.gw.deps.limits.gate.inFlightOf?.(parent.id) ?? 0).toBe(0)
    const again = await Promise.all(Array.from({ length: 10 }, () => streamChat(env, a.key, BODY)))
    expect(again.map((r) => r.status)).toEqual(Array(10).fill(200))
  })

  test("a child's Concurrency never exceeds its parent's; lowering the parent's lowers it", async () => {
    const parent = await child(env, env.gw.rootKey, 100, { Concurrency: 4 })
    const over = await call(env.gw, 'POST', '/x-users', {
      key: parent.key,
      body: {
        Name: `over${process.pid}`,
        Email: `over${process.pid}@example.com`,
        CreditGranted: 10,
        Concurrency: 5,
      },
    })
    expect(over.status, over.text).toBe(400)
    expect(over.body.error.param).toBe('Concurrency')
    const kid = await child(env, parent.key, 10, { Concurrency: 3 })
    const lower = await call(env.gw, 'PUT', `/x-users/${parent.id}`, {
      key: env.gw.rootKey,
      body: { Concurrency: 2 },
    })
    expect(lower.status, lower.text).toBe(200)
    const k = await call(env.gw, 'GET', `/x-dna/${kid.id}`, { key: env.gw.rootKey })
    expect(one(k.body).Concurrency).toBe(2)
  })

  test('Concurrency 1 on the account itself: a second call while one runs is 429, then it runs', async () => {
    const a = await child(env, env.gw.rootKey, 100, { Concurrency: 1 })
    const first = streamChat(env, a.key, BODY)
    await Bun.sleep(30)
    const second = await streamChat(env, a.key, BODY)
    expect(second.status).toBe(429)
    expect((await first).status).toBe(200)
    expect((await streamChat(env, a.key, BODY)).status).toBe(200)
  })
})

describe('upstream key Concurrency', () => {
  test('a full key is passed by for the next; all full is 429 keys_busy with Retry-After', async () => {
    const keys = await call(env.gw, 'GET', '/x-keys', { key: env.gw.rootKey })
    expect(keys.status, keys.text).toBe(200)
    const openai = (keys.body as any[]).find((k) => k.Type === 'openai')
    const set = await call(env.gw, 'PUT', `/x-keys/${openai.ID}`, {
      key: env.gw.rootKey,
      body: { Concurrency: 2 },
    })
    expect(set.status, set.text).toBe(200)
    expect(set.body.Key.Concurrency).toBe(2)
    try {
      const five = await Promise.all(
        Array.from({ length: 5 }, () => streamChat(env, env.gw.rootKey, BODY)),
      )
      const statuses = five.map((r) => r.status).sort()
      expect(statuses).toEqual([200, 200, 429, 429, 429])
      const busy = five.find((r) => r.status === 429)!
      expect(JSON.parse(busy.text).error.code).toBe('keys_busy')
      expect(busy.headers.get('retry-after')).toBe('1')

      const added = await call(env.gw, 'POST', '/x-keys', {
        key: env.gw.rootKey,
        body: {
          SecretKey: 'sk-fake-openai-secret-second-0003',
          Provider: env.up.url,
          Concurrency: 2,
        },
      })
      expect(added.status, added.text).toBe(200)
      const next = await Promise.all(
        Array.from({ length: 5 }, () => streamChat(env, env.gw.rootKey, BODY)),
      )
      expect(next.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 429])
      const view = await call(env.gw, 'GET', `/x-keys/${openai.ID}`, { key: env.gw.rootKey })
      expect(one(view.body).InFlight).toBe(0)
    } finally {
      await call(env.gw, 'PUT', `/x-keys/${openai.ID}`, {
        key: env.gw.rootKey,
        body: { Concurrency: 0 },
      })
    }
  })
})
