// Translated calls when things go wrong: upstream errors after failover in the client's dialect
// and status, a client leaving a translated stream, an upstream stream cut short.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { addAccount, startProxyEnv, usageRows, type ProxyEnv } from './fixtures'

let env: ProxyEnv
let key: string
let accountId: number
let openai: OpenAI
let anthropic: Anthropic
const msgs = [{ role: 'user' as const, content: 'Tell me a story' }]

beforeAll(async () => {
  env = await startProxyEnv()
  const a = await addAccount(env.gw, { creditUsd: 50 })
  key = a.key
  accountId = a.account.id
  openai = new OpenAI({ apiKey: key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
  anthropic = new Anthropic({ apiKey: key, baseURL: env.gw.url, maxRetries: 0 })
})
afterAll(() => env.close())

const rows = async () => usageRows(env.gw, accountId)
async function until(ok: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !(await ok()); await Bun.sleep(5))
    if (Date.now() > end) throw new Error('condition not met in time')
}

describe('upstream errors, after failover', () => {
  test("Anthropic's 529 reaches an OpenAI client as 503, in OpenAI's shape", async () => {
    env.up.setBehavior(() => ({ status: 529, message: 'Overloaded' }))
    try {
      const e = await openai.chat.completions
        .create({ model: 'claude-haiku-4-5', messages: msgs })
        .catch((x) => x)
      expect(e).toBeInstanceOf(OpenAI.InternalServerError)
      expect(e.status).toBe(503)
      expect(e.message).toContain('Overloaded')
      expect(e.error).toMatchObject({ type: 'server_error' })
      expect((await rows()).at(-1)).toMatchObject({ status: 503, cost_nano: 0 })
    } finally {
      env.up.setBehavior(undefined)
    }
  })

  test("OpenAI's 429 reaches an Anthropic client as rate_limit_error, Retry-After kept", async () => {
    env.up.setBehavior((r) =>
      r.path === '/v1/chat/completions'
        ? { status: 429, retryAfter: 7, message: 'slow down' }
        : undefined,
    )
    try {
      const e = await anthropic.messages
        .create({ model: 'gpt-4o-mini', max_tokens: 16, messages: msgs })
        .catch((x) => x)
      expect(e).toBeInstanceOf(Anthropic.RateLimitError)
      expect(e.error).toEqual({
        type: 'error',
        error: { type: 'rate_limit_error', message: 'slow down' },
      })
      expect(e.headers.get('retry-after')).toBe('7')
    } finally {
      env.up.setBehavior(undefined)
      // The key slept for Retry-After: wake it for the next tests.
      for (const k of env.gw.deps.keys.pool.all()) k.sleepUntilMs = null
    }
  })
})

describe('streams cut short', () => {
  test('a client leaving a translated stream aborts the upstream; one 499 record, estimated', async () => {
    env.up.setBehavior({ chunks: 50, chunkDelayMs: 20 })
    try {
      const n = (await rows()).length
      const aborted = env.up.tally.aborted
      const stream = await openai.chat.completions.create({
        model: 'claude-haiku-4-5',
        messages: msgs,
        stream: true,
      })
      for await (const c of stream) {
        if (c.choices[0]?.delta.content) break
      }
      await until(() => env.up.tally.aborted > aborted)
      await until(() => env.gw.deps.inFlight.count() === 0)
      await until(async () => (await rows()).length > n)
      const all = await rows()
      expect(all.length).toBe(n + 1)
      expect(all.at(-1)).toMatchObject({
        status: 499,
        estimated: 1,
        endpoint: '/v1/chat/completions',
      })
    } finally {
      env.up.setBehavior(undefined)
    }
  })

  test('an upstream stream that breaks off: the Anthropic client gets an error event, not a whole answer', async () => {
    env.up.setBehavior({ disconnectAfterChunks: 3 })
    try {
      const stream = anthropic.messages.stream({
        model: 'gpt-4o-mini',
        max_tokens: 16,
        messages: msgs,
      })
      const e = await stream.finalMessage().catch((x) => x)
      expect(e).toBeInstanceOf(Error)
      await until(() => env.gw.deps.inFlight.count() === 0)
      await until(async () => (await rows()).at(-1)?.endpoint === '/v1/messages')
      expect((await rows()).at(-1)).toMatchObject({ estimated: 1 })
    } finally {
      env.up.setBehavior(undefined)
    }
  })
})
