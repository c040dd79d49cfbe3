// Streams: a client abort stops the upstream and bills what was seen; a 10,000-chunk stream keeps
// memory flat; the client gets chunks as they arrive.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { addAccount, startProxyEnv, until, usageRows, type ProxyEnv } from './fixtures'

let env: ProxyEnv
let client: OpenAI
let accountId: number

beforeAll(async () => {
  env = await startProxyEnv()
  const a = await addAccount(env.gw)
  accountId = a.account.id
  client = new OpenAI({ apiKey: a.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
})
afterAll(() => env.close())

const msgs = [{ role: 'user' as const, content: 'Tell me a long story about the sea' }]

describe('streaming', () => {
  test('client abort: upstream call aborted, record estimated from what was seen, status 499', async () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i} `).join('')
    env.up.setBehavior({ text: words, chunks: 200, chunkDelayMs: 5 })
    try {
      const ctrl = new AbortController()
      const s = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: msgs, stream: true },
        { signal: ctrl.signal },
      )
      let seen = 0
      await (async () => {
        for await (const c of s) {
          if (c.choices[0]?.delta?.content) seen++
          if (seen === 10) ctrl.abort()
        }
      })().catch(() => {})
      await until(() => env.up.tally.aborted > 0)
      await until(async () => (await usageRows(env.gw, accountId)).some((u) => u.status === 499))
      const rec = (await usageRows(env.gw, accountId)).find((u) => u.status === 499)
      expect(rec.estimated).toBe(1)
      expect(rec.completion_tokens).toBeGreaterThan(5)
      expect(rec.completion_tokens).toBeLessThan(200)
      expect(rec.prompt_tokens).toBeGreaterThan(5)
      expect(rec.cost_nano).toBeGreaterThan(0)
      expect(env.gw.deps.inFlight.count()).toBe(0)
    } finally {
      env.up.setBehavior({ text: 'Hello from the fake upstream.', chunks: 4, chunkDelayMs: 0 })
    }
  })

  test('10,000-chunk stream: every chunk arrives, heap stays flat, billed once', async () => {
    const n = 10_000
    env.up.setBehavior({ text: 'abcdefgh'.repeat(n), chunks: n, chunkDelayMs: 0 })
    try {
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: msgs,
        stream: true,
      })
      let count = 0
      let chars = 0
      const heap: number[] = []
      for await (const c of s) {
        const d = c.choices[0]?.delta?.content
        if (!d) continue
        count++
        chars += d.length
        if (count === 1000 || count === n) {
          Bun.gc(true)
          heap.push(process.memoryUsage().heapUsed)
        }
      }
      expect(count).toBe(n)
      expect(chars).toBe(8 * n)
      // 80 KB of text went by; a buffered stream would hold all of it and its events (~2 MB).
      expect(heap[1]! - heap[0]!).toBeLessThan(1_500_000)
      await until(async () => (await usageRows(env.gw, accountId)).at(-1)?.completion_tokens === 8)
      expect((await usageRows(env.gw, accountId)).at(-1)).toMatchObject({ status: 200, estimated: 0 })
    } finally {
      env.up.setBehavior({ text: 'Hello from the fake upstream.', chunks: 4 })
    }
  })

  test('chunks reach the client as they are produced, not at the end', async () => {
    env.up.setBehavior({ chunks: 5, chunkDelayMs: 60 })
    try {
      const t0 = performance.now()
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: msgs,
        stream: true,
      })
      const at: number[] = []
      for await (const c of s) if (c.choices[0]?.delta?.content) at.push(performance.now() - t0)
      expect(at.length).toBe(5)
      expect(at[4]! - at[0]!).toBeGreaterThan(150)
    } finally {
      env.up.setBehavior({ chunks: 4, chunkDelayMs: 0 })
    }
  })
})
