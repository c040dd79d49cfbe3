// Cache writes end to end: Anthropic calls (JSON and stream) whose usage reports
// cache_creation_input_tokens are charged at the cache-write prices, and the usage record, the
// daily aggregate and /x-bill carry the tokens.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'
import { addAccount, startProxyEnv, until, usageRows, type ProxyEnv } from '../proxy/fixtures'

// claude-sonnet-4-0: input 3, cached_input 0.3, output 15 USD/M; writes 3.75 (5 min), 6 (1 h).
const MODEL = 'claude-sonnet-4-0'
const req = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hi' }] }

describe('5-minute writes through the fake upstream', () => {
  let env: ProxyEnv
  let client: Anthropic
  let user: Awaited<ReturnType<typeof addAccount>>

  beforeAll(async () => {
    // 100 fresh + 1000 written + 0 read = 1100 prompt tokens; 10 out.
    env = await startProxyEnv(
      {},
      { promptTokens: 1100, cacheCreationTokens: 1000, cachedTokens: 0, completionTokens: 10 },
    )
    user = await addAccount(env.gw, { creditUsd: 10 })
    client = new Anthropic({ apiKey: user.key, baseURL: env.gw.url, maxRetries: 0 })
  })
  afterAll(() => env.close())

  // 100 × 3000 + 1000 × 3750 + 10 × 15000 nano-USD a thousand tokens / 1000: 4.2 mUSD
  // (at the plain input price it would be 3.45 mUSD).
  const COST = 300_000 + 3_750_000 + 150_000

  test('JSON: charged at 1.25 × input for the writes; the record has them', async () => {
    await client.messages.create(req)
    const rec = (await usageRows(env.gw, user.account.id)).at(-1)
    expect(rec).toMatchObject({
      prompt_tokens: 1100,
      cached_tokens: 0,
      cache_write_tokens: 1000,
      cache_write_1h_tokens: 0,
      completion_tokens: 10,
      list_nano: COST,
      cost_nano: COST,
      estimated: 0,
    })
  })

  test('stream: message_start carries the writes to the same charge', async () => {
    const n = (await usageRows(env.gw, user.account.id)).length
    const stream = client.messages.stream(req)
    for await (const _ of stream) void _
    await until(async () => (await usageRows(env.gw, user.account.id)).length > n)
    expect((await usageRows(env.gw, user.account.id)).at(-1)).toMatchObject({
      prompt_tokens: 1100,
      cache_write_tokens: 1000,
      cost_nano: COST,
      estimated: 0,
    })
  })

  test('/x-bill, /dashboard/bill and the daily aggregate show the cache writes per model', async () => {
    const bill = await call(env.gw, 'GET', '/x-bill?days=1', { key: env.gw.rootKey })
    expect(bill.status, bill.text).toBe(200)
    const day = bill.body.data[0]
    expect(day.n_cache_write_tokens_total, bill.text).toBe(2000)
    expect(day.usage_details[MODEL], bill.text).toEqual({
      requests: 2,
      prompt: 2200,
      completion: 20,
      cached: 0,
      cache_write: 2000,
      cost: (2 * COST) / 1e9,
    })
    const own = await call(env.gw, 'GET', '/dashboard/bill?days=1', { key: user.key })
    expect(own.body.data[0].usage_details[MODEL].cache_write, own.text).toBe(2000)
    const daily = (await env.gw.deps.sql.all('SELECT cache_write_tokens FROM usage_daily WHERE account_id = ?', [user.account.id]))
    expect(daily).toEqual([{ cache_write_tokens: 2000 }])
  })
})

/** A provider that reports a 5-minute / 1-hour split of its cache writes, JSON or SSE. */
function splitUpstream(usage: Record<string, unknown>) {
  const message = {
    id: 'msg_split',
    type: 'message',
    role: 'assistant',
    model: MODEL,
    content: [{ type: 'text', text: 'ok' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage,
  }
  const sse = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
  return Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(r) {
      const body = (await r.json()) as { stream?: boolean }
      if (!body.stream) return Response.json(message)
      const text =
        sse('message_start', {
          message: {
            ...message,
            content: [],
            stop_reason: null,
            usage: { ...usage, output_tokens: 1 },
          },
        }) +
        sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'ok' } }) +
        sse('content_block_stop', { index: 0 }) +
        sse('message_delta', {
          delta: { stop_reason: 'end_turn', stop_sequence: null },
          usage: { output_tokens: usage.output_tokens },
        }) +
        sse('message_stop', {})
      return new Response(text, { headers: { 'content-type': 'text/event-stream' } })
    },
  })
}

describe('1-hour writes from the cache_creation split', () => {
  const usage = {
    input_tokens: 100,
    cache_creation_input_tokens: 1000,
    cache_creation: { ephemeral_5m_input_tokens: 400, ephemeral_1h_input_tokens: 600 },
    cache_read_input_tokens: 50,
    output_tokens: 10,
  }
  // 100 × 3000 + 400 × 3750 + 600 × 6000 + 50 × 300 + 10 × 15000, over 1000
  const COST = 300_000 + 1_500_000 + 3_600_000 + 15_000 + 150_000
  let up: ReturnType<typeof Bun.serve>
  let gw: TestGateway
  let user: Awaited<ReturnType<typeof addAccount>>

  beforeAll(async () => {
    up = splitUpstream(usage)
    gw = await startTestGateway({
      INIT_KEYS: `sk-split-0001::http://127.0.0.1:${up.port}::anthropic`,
    })
    user = await addAccount(gw, { creditUsd: 10 })
  })
  afterAll(async () => {
    await gw.close()
    up.stop(true)
  })

  const send = (stream: boolean) =>
    fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': user.key,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ ...req, stream }),
    })

  for (const stream of [false, true]) {
    test(`${stream ? 'stream' : 'JSON'}: 1-hour writes at 2 × input, the rest at 1.25 ×`, async () => {
      const n = (await usageRows(gw, user.account.id)).length
      const res = await send(stream)
      const text = await res.text()
      expect(res.status, text).toBe(200)
      await until(async () => (await usageRows(gw, user.account.id)).length > n)
      expect((await usageRows(gw, user.account.id)).at(-1), text).toMatchObject({
        prompt_tokens: 1150,
        cached_tokens: 50,
        cache_write_tokens: 1000,
        cache_write_1h_tokens: 600,
        completion_tokens: 10,
        cost_nano: COST,
        estimated: 0,
      })
    })
  }
})
