// The OpenAI surface end to end with the official SDK against a running gateway and fake provider.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import {
  addAccount,
  cardsNano,
  OPENAI_SECRET,
  startProxyEnv,
  until,
  usageRows,
  type ProxyEnv,
} from './fixtures'

let env: ProxyEnv
let client: OpenAI
let accountId: number

beforeAll(async () => {
  env = await startProxyEnv()
  const a = await addAccount(env.gw, { creditUsd: 50, rates: 1.5 })
  accountId = a.account.id
  client = new OpenAI({ apiKey: a.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
})
afterAll(() => env.close())

const msgs = [{ role: 'user' as const, content: 'Say hello' }]

describe('chat completions', () => {
  test('non-stream: answer passed through, upstream saw its own key and the model', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    expect(r.choices[0]!.message.content).toBe('Hello from the fake upstream.')
    expect(r.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 8 })
    const last = env.up.calls.at(-1)!
    expect(last.key).toBe(OPENAI_SECRET)
    expect((last.body as any).model).toBe('gpt-4o-mini')
    expect(last.headers['accept-encoding']).toBe('identity')
  })

  test('charge to the nano-dollar: (12 × 0.15 + 8 × 0.6) USD/M × Rates 1.5 = 9,900 nano', async () => {
    await env.gw.deps.flusher.flushNow()
    const before = await cardsNano(env.gw, accountId)
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    expect(r.id).toBeTruthy()
    const rows = await usageRows(env.gw, accountId)
    const rec = rows.at(-1)
    expect(rec).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 8,
      total_tokens: 20,
      list_nano: 6600,
      cost_nano: 9900,
      status: 200,
      estimated: 0,
    })
    expect(before - await cardsNano(env.gw, accountId)).toBe(9900)
    const ledger = (await env.gw.deps.sql.all('SELECT delta_nano, reason FROM ledger WHERE ref = ?', [rec.request_id]))
    expect(ledger).toEqual([{ delta_nano: -9900, reason: 'usage' }])
    const daily = (await env.gw.deps.sql.get('SELECT requests, cost_nano FROM usage_daily WHERE account_id = ? AND model = ?', [accountId, 'gpt-4o-mini'])) as any
    expect(daily.requests).toBe(rows.length)
  })

  test('stream without include_usage: usage asked upstream, chunk hidden from the client, billed', async () => {
    const n = (await usageRows(env.gw, accountId)).length
    const s = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: msgs,
      stream: true,
    })
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = []
    for await (const c of s) chunks.push(c)
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
      'Hello from the fake upstream.',
    )
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true)
    expect(chunks.some((c) => c.usage)).toBe(false)
    expect((env.up.calls.at(-1)!.body as any).stream_options).toEqual({ include_usage: true })
    await until(async () => (await usageRows(env.gw, accountId)).length > n)
    expect((await usageRows(env.gw, accountId)).at(-1)).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 8,
      cost_nano: 9900,
      estimated: 0,
    })
  })

  test('stream with include_usage: the client gets its usage chunk', async () => {
    const s = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: msgs,
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = []
    for await (const c of s) chunks.push(c)
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 8 })
  })

  test('tool calls pass through untouched', async () => {
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: msgs,
      tools: [
        {
          type: 'function',
          function: {
            name: 'search',
            parameters: { type: 'object', properties: { query: { type: 'string' } } },
          },
        },
      ],
    })
    const call = r.choices[0]!.message.tool_calls![0]! as any
    expect(call.function.name).toBe('search')
    expect(JSON.parse(call.function.arguments)).toEqual({ query: 'fake' })
    expect((env.up.calls.at(-1)!.body as any).tools[0].function.name).toBe('search')
  })
})

describe('other surfaces', () => {
  test('embeddings', async () => {
    const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' })
    expect(r.data[0]!.embedding.length).toBe(8)
    expect((await usageRows(env.gw, accountId)).at(-1)).toMatchObject({
      endpoint: '/v1/embeddings',
      prompt_tokens: 12,
      cost_nano: Math.round(12 * 0.02 * 1000 * 1.5),
    })
  })

  test('responses API, stream and not', async () => {
    const r = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' })
    expect(r.output_text).toBe('Hello from the fake upstream.')
    const s = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true })
    let text = ''
    for await (const e of s) if (e.type === 'response.output_text.delta') text += e.delta
    expect(text).toBe('Hello from the fake upstream.')
    await until(
      async () =>
        (await usageRows(env.gw, accountId)).at(-1).endpoint === '/v1/responses' &&
        (await usageRows(env.gw, accountId)).filter((u) => u.endpoint === '/v1/responses').length === 2,
    )
    expect((await usageRows(env.gw, accountId)).at(-1)).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 8,
      estimated: 0,
    })
  })

  test('GET /v1/models lists priced models the key can reach', async () => {
    const list = await client.models.list()
    const ids = list.data.map((m) => m.id)
    expect(ids).toContain('gpt-4o-mini')
    expect(ids).toContain('claude-sonnet-4-0')
    const limited = await addAccount(env.gw, { allowModels: ['gpt-4o-mini*'] })
    const c = new OpenAI({ apiKey: limited.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    expect((await c.models.list()).data.map((m) => m.id)).toEqual([
      'gpt-4o-mini',
      'gpt-4o-mini-2024-07-18',
    ])
  })
})

describe('errors surface as SDK error classes', () => {
  test('bad key → AuthenticationError 401', async () => {
    const bad = new OpenAI({
      apiKey: 'sk-Xvs' + 'a'.repeat(45),
      baseURL: env.gw.url + '/v1',
      maxRetries: 0,
    })
    const e = await bad.chat.completions
      .create({ model: 'gpt-4o-mini', messages: msgs })
      .catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(e.status).toBe(401)
  })

  test('unpriced model → BadRequestError 400 model_not_priced, upstream never called', async () => {
    const before = env.up.tally.requests
    const e = await client.chat.completions
      .create({ model: 'no-such-model', messages: msgs })
      .catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.BadRequestError)
    expect(e.code).toBe('model_not_priced')
    expect(env.up.tally.requests).toBe(before)
  })

  test('upstream 400 passes through as it is, without retry', async () => {
    env.up.setBehavior(() => ({ status: 400, message: 'bad parameter temperature' }))
    const before = env.up.tally.requests
    try {
      const e = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: msgs })
        .catch((x) => x)
      expect(e).toBeInstanceOf(OpenAI.BadRequestError)
      expect(e.message).toContain('bad parameter temperature')
      expect(env.up.tally.requests).toBe(before + 1)
    } finally {
      env.up.setBehavior(undefined)
    }
  })

  test('balance under CALL_MIN_BALANCE → 402', async () => {
    const poor = await addAccount(env.gw, { creditUsd: 0.5 })
    const c = new OpenAI({ apiKey: poor.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    const e = await c.chat.completions
      .create({ model: 'gpt-4o-mini', messages: msgs })
      .catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.APIError)
    expect(e.status).toBe(402)
    expect(e.code).toBe('insufficient_balance')
  })

  test('model outside AllowModels → PermissionDeniedError 403', async () => {
    const limited = await addAccount(env.gw, { allowModels: ['gpt-4o*'] })
    const c = new OpenAI({ apiKey: limited.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    const e = await c.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError)
    const ok = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    expect(ok.choices.length).toBe(1)
  })

  test('bad JSON → 400 in the OpenAI shape', async () => {
    const r = await fetch(env.gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
      body: '{not json',
    })
    expect(r.status).toBe(400)
    expect(((await r.json()) as any).error.code).toBe('invalid_json')
  })
})
