// Cancellation and time limits of one call: a client leaving while the upstream has not answered
// aborts it; the first-byte limit fails over or answers 504; the whole-call limit ends a running
// stream and bills what was seen. Whatever the ending, a call settles exactly once and leaves
// nothing in flight.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { addAccount, startProxyEnv, until, usageRows, type ProxyEnv } from './fixtures'

const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
const STREAM = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: 'Tell me a long story' }],
})

function post(env: ProxyEnv, key: string, body: string, signal?: AbortSignal) {
  return fetch(env.gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
    signal,
  })
}

async function ledgerRows(env: ProxyEnv, accountId: number): Promise<any[]> {
  await env.gw.deps.flusher.flushNow()
  return (await env.gw.deps.sql.all("SELECT * FROM ledger WHERE account_id = ? AND reason = 'usage'", [accountId])) as any[]
}

describe('client leaves before the first byte', () => {
  let env: ProxyEnv
  beforeAll(async () => {
    env = await startProxyEnv({ FIRST_BYTE_TIMEOUT_MS: '20000' })
  })
  afterAll(() => env.close())

  // A call starts listening for its client after a short while (CLIENT_WATCH_MS = 50): a client
  // gone before that is found gone then, one that goes later is heard at once.
  for (const [name, reply, leaveAfterMs] of [
    ['hanging upstream', { hang: true }, 0],
    ['slow upstream', { latencyMs: 400 }, 0],
    ['hanging upstream, client leaves after the watch began', { hang: true }, 200],
  ] as const) {
    test(`${name}: upstream aborted, one 499 record, no charge, nothing in flight`, async () => {
      const { key, account } = await addAccount(env.gw)
      env.up.setBehavior(reply)
      try {
        const aborted = env.up.tally.aborted
        const ctrl = new AbortController()
        const pending = post(env, key, BODY, ctrl.signal).catch((e) => e)
        await until(() => env.up.tally.inFlight > 0)
        if (leaveAfterMs) await Bun.sleep(leaveAfterMs)
        ctrl.abort()
        expect(await pending).toBeInstanceOf(Error)
        await until(() => env.gw.deps.inFlight.count() === 0)
        if ('hang' in reply) await until(() => env.up.tally.aborted > aborted)
        const rows = await usageRows(env.gw, account.id)
        expect(rows.length, JSON.stringify(rows)).toBe(1)
        expect(rows[0].status).toBe(499)
        expect(rows[0].cost_nano).toBe(0)
        expect((await ledgerRows(env, account.id)).length).toBe(0)
      } finally {
        env.up.setBehavior({ hang: false, latencyMs: 0 })
      }
    })
  }
})

describe('time limits', () => {
  let env: ProxyEnv
  beforeAll(async () => {
    env = await startProxyEnv({ FIRST_BYTE_TIMEOUT_MS: '300', UPSTREAM_TIMEOUT_MS: '1000' })
  })
  afterAll(() => env.close())

  test('first-byte limit with the only key hanging: 504, one record, upstream aborted', async () => {
    const { key, account } = await addAccount(env.gw)
    env.up.setBehavior({ hang: true })
    try {
      const aborted = env.up.tally.aborted
      const t0 = Date.now()
      const res = await post(env, key, BODY)
      const text = await res.text()
      expect(res.status, text).toBe(504)
      expect(JSON.parse(text).error.code).toBe('upstream_timeout')
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
      await until(() => env.up.tally.aborted > aborted)
      await until(() => env.gw.deps.inFlight.count() === 0)
      const rows = await usageRows(env.gw, account.id)
      expect(rows.length, JSON.stringify(rows)).toBe(1)
      expect(rows[0].status).toBe(504)
      expect((await ledgerRows(env, account.id)).length).toBe(0)
    } finally {
      env.up.setBehavior({ hang: false })
    }
  })

  test('whole-call limit ends a running stream: what was seen is billed once', async () => {
    const { key, account } = await addAccount(env.gw)
    const words = Array.from({ length: 200 }, (_, i) => `word${i} `).join('')
    env.up.setBehavior({ text: words, chunks: 200, chunkDelayMs: 20 })
    try {
      const t0 = Date.now()
      const res = await post(env, key, STREAM)
      expect(res.status).toBe(200)
      const text = await res.text().catch(() => '')
      const elapsed = Date.now() - t0
      expect(elapsed).toBeGreaterThanOrEqual(900)
      expect(elapsed).toBeLessThan(3000)
      expect(text).not.toContain('[DONE]')
      await until(() => env.gw.deps.inFlight.count() === 0)
      await until(() => env.up.tally.inFlight === 0)
      const rows = await usageRows(env.gw, account.id)
      expect(rows.length, JSON.stringify(rows)).toBe(1)
      expect(rows[0].status).toBe(499)
      expect(rows[0].estimated).toBe(1)
      expect(rows[0].completion_tokens).toBeGreaterThan(5)
      expect(rows[0].completion_tokens).toBeLessThan(200)
      const ledger = await ledgerRows(env, account.id)
      expect(ledger.length).toBe(1)
      expect(-ledger[0].delta_nano).toBe(rows[0].cost_nano)
    } finally {
      env.up.setBehavior({ text: 'Hello from the fake upstream.', chunks: 4, chunkDelayMs: 0 })
    }
  })

  test('whole-call limit before the first byte (first-byte limit longer): 499, one record', async () => {
    const slow = await startProxyEnv({ FIRST_BYTE_TIMEOUT_MS: '5000', UPSTREAM_TIMEOUT_MS: '1000' })
    try {
      const { key, account } = await addAccount(slow.gw)
      slow.up.setBehavior({ hang: true })
      const t0 = Date.now()
      const res = await post(slow, key, BODY)
      expect(res.status).toBe(499)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
      expect(Date.now() - t0).toBeLessThan(4000)
      await until(() => slow.up.tally.aborted > 0)
      await until(() => slow.gw.deps.inFlight.count() === 0)
      const rows = await usageRows(slow.gw, account.id)
      expect(rows.length, JSON.stringify(rows)).toBe(1)
      expect(rows[0].status).toBe(499)
    } finally {
      slow.up.setBehavior({ hang: false })
      await slow.close()
    }
  })
})

describe('settlement exactly once', () => {
  let env: ProxyEnv
  beforeAll(async () => {
    env = await startProxyEnv()
  })
  afterAll(() => env.close())

  test('60 concurrent calls, some abandoned mid-stream: one record and one charge per call', async () => {
    const { key, account } = await addAccount(env.gw)
    env.up.setBehavior({ chunks: 20, chunkDelayMs: 2 })
    try {
      const calls = Array.from({ length: 60 }, async (_, i) => {
        if (i % 3 !== 0) {
          const res = await post(env, key, i % 2 ? BODY : STREAM)
          await res.text()
          return
        }
        const ctrl = new AbortController()
        const res = await post(env, key, STREAM, ctrl.signal)
        const reader = res.body!.getReader()
        await reader.read()
        ctrl.abort()
        await reader.cancel().catch(() => {})
      })
      await Promise.all(calls)
      await until(() => env.gw.deps.inFlight.count() === 0)
      const rows = await usageRows(env.gw, account.id)
      expect(rows.length).toBe(60)
      expect(new Set(rows.map((r) => r.request_id)).size).toBe(60)
      const charged = rows.filter((r) => r.cost_nano > 0)
      const ledger = await ledgerRows(env, account.id)
      expect(ledger.length).toBe(charged.length)
      expect(new Set(ledger.map((l) => l.ref))).toEqual(new Set(charged.map((r) => r.request_id)))
      expect(ledger.reduce((n, l) => n - l.delta_nano, 0)).toBe(
        charged.reduce((n, r) => n + r.cost_nano, 0),
      )
    } finally {
      env.up.setBehavior({ chunks: 4, chunkDelayMs: 0 })
    }
  })
})
