// The Anthropic surface end to end with the official SDK (x-api-key and Bearer).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import {
  addAccount,
  ANTHROPIC_SECRET,
  startProxyEnv,
  until,
  usageRows,
  type ProxyEnv,
} from './fixtures'

let env: ProxyEnv
let client: Anthropic
let key: string
let accountId: number

beforeAll(async () => {
  env = await startProxyEnv(
    {},
    { promptTokens: 100, cachedTokens: 40, cacheCreationTokens: 10, completionTokens: 20 },
  )
  const a = await addAccount(env.gw, { creditUsd: 50 })
  key = a.key
  accountId = a.account.id
  client = new Anthropic({ apiKey: key, baseURL: env.gw.url, maxRetries: 0 })
})
afterAll(() => env.close())

const req = {
  model: 'claude-sonnet-4-0',
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: 'Hello' }],
}

describe('messages', () => {
  test('non-stream: upstream got x-api-key of the pool key and anthropic-version', async () => {
    const m = await client.messages.create(req)
    expect(m.content[0]).toMatchObject({ type: 'text', text: 'Hello from the fake upstream.' })
    const last = env.up.calls.at(-1)!
    expect(last.key).toBe(ANTHROPIC_SECRET)
    expect(last.headers['anthropic-version']).toBeTruthy()
    expect(last.headers.authorization).toBeUndefined()
  })

  test('usage: prompt = input + cache writes + cache reads, cached = reads; exact cost', async () => {
    await client.messages.create(req)
    const rec = (await usageRows(env.gw, accountId)).at(-1)
    // claude-sonnet-4-0: input 3, cache write 3.75 (1.25 × input), cached_input 0.3, output 15
    // USD/M → 50×3 + 10×3.75 + 40×0.3 + 20×15 = 499.5 µUSD
    expect(rec).toMatchObject({
      prompt_tokens: 100,
      cached_tokens: 40,
      cache_write_tokens: 10,
      completion_tokens: 20,
      cost_nano: 499_500,
      estimated: 0,
    })
  })

  test('stream: events pass through; usage from message_start and message_delta', async () => {
    const n = (await usageRows(env.gw, accountId)).length
    const stream = client.messages.stream(req)
    const types: string[] = []
    for await (const e of stream) types.push(e.type)
    const final = await stream.finalMessage()
    expect(final.content[0]).toMatchObject({ text: 'Hello from the fake upstream.' })
    expect(types[0]).toBe('message_start')
    expect(types.at(-1)).toBe('message_stop')
    await until(async () => (await usageRows(env.gw, accountId)).length > n)
    expect((await usageRows(env.gw, accountId)).at(-1)).toMatchObject({
      prompt_tokens: 100,
      completion_tokens: 20,
      cost_nano: 499_500,
    })
  })

  test('Bearer authentication works too; count_tokens is free', async () => {
    const bearer = new Anthropic({
      authToken: key,
      apiKey: null,
      baseURL: env.gw.url,
      maxRetries: 0,
    })
    const m = await bearer.messages.countTokens({ model: req.model, messages: req.messages })
    expect(m.input_tokens).toBeGreaterThan(0)
    expect((await usageRows(env.gw, accountId)).at(-1)).toMatchObject({
      endpoint: '/v1/messages/count_tokens',
      cost_nano: 0,
    })
  })

  test('errors come in the Anthropic shape and SDK classes', async () => {
    const bad = new Anthropic({
      apiKey: 'sk-Xvs' + 'b'.repeat(45),
      baseURL: env.gw.url,
      maxRetries: 0,
    })
    const e = await bad.messages.create(req).catch((x) => x)
    expect(e).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
    env.up.setBehavior(() => ({ status: 400, message: 'max_tokens too large' }))
    try {
      const e2 = await client.messages.create(req).catch((x) => x)
      expect(e2).toBeInstanceOf(Anthropic.BadRequestError)
      expect(e2.message).toContain('max_tokens too large')
    } finally {
      env.up.setBehavior(undefined)
    }
  })
})
