// The OpenAI SDK on a Claude model, end to end: the gateway sends Messages to anthropic keys and
// answers in Chat Completions (plain, streamed with and without usage, a two-step tool loop,
// errors), billed as the native Messages call of the same tokens.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { ANTHROPIC_SECRET, addAccount, startProxyEnv, usageRows, type ProxyEnv } from './fixtures'

let env: ProxyEnv
let client: OpenAI
let key: string
let accountId: number
const model = 'claude-sonnet-4-0'
const msgs = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'Say hello' },
]
const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather now',
    parameters: { type: 'object', properties: { query: { type: 'string' } } },
  },
}

beforeAll(async () => {
  env = await startProxyEnv(
    {},
    { promptTokens: 100, cachedTokens: 40, cacheCreationTokens: 10, completionTokens: 20 },
  )
  const a = await addAccount(env.gw, { creditUsd: 50 })
  key = a.key
  accountId = a.account.id
  client = new OpenAI({ apiKey: key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
})
afterAll(() => env.close())

const lastRow = async () => (await usageRows(env.gw, accountId)).at(-1)
/** Waits for the last usage row to satisfy `ok` (a stream settles after its last byte). */
async function untilRow(ok: (row: any) => boolean, ms = 2000): Promise<void> {
  for (const end = Date.now() + ms; !ok(await lastRow()); await Bun.sleep(5))
    if (Date.now() > end) throw new Error('usage row not written in time')
}

describe('OpenAI SDK → Claude model', () => {
  test('plain: a Messages request upstream, a chat.completion back, dropped params named', async () => {
    const { data, response } = await client.chat.completions
      .create({ model, messages: msgs, seed: 3, temperature: 1.5 })
      .withResponse()
    expect(data.object).toBe('chat.completion')
    expect(data.choices[0]!.message.content).toBe('Hello from the fake upstream.')
    expect(data.choices[0]!.finish_reason).toBe('stop')
    // Anthropic's input_tokens (50) excludes cache reads (40) and writes (10): OpenAI's prompt has them.
    expect(data.usage).toMatchObject({
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      prompt_tokens_details: { cached_tokens: 40 },
    })
    expect(response.headers.get('x-xgate-dropped-params')).toBe('seed')
    const up = env.up.calls.at(-1)!
    expect(up.path).toBe('/v1/messages')
    expect(up.key).toBe(ANTHROPIC_SECRET)
    expect(up.headers['anthropic-version']).toBeTruthy()
    expect(up.body).toMatchObject({
      model,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Say hello' }],
      temperature: 1,
    })
    expect((up.body as any).max_tokens).toBeGreaterThan(0)
  })

  test('billed like the native Messages call of the same tokens, to the nano-dollar', async () => {
    await client.chat.completions.create({ model, messages: msgs })
    const translated = await lastRow()
    const native = new Anthropic({ apiKey: key, baseURL: env.gw.url, maxRetries: 0 })
    await native.messages.create({
      model,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Say hello' }],
    })
    const direct = await lastRow()
    expect(direct.request_id).not.toBe(translated.request_id)
    for (const f of [
      'prompt_tokens',
      'completion_tokens',
      'cached_tokens',
      'cache_write_tokens',
      'list_nano',
      'cost_nano',
      'estimated',
    ])
      expect(translated[f]).toBe(direct[f])
    // claude-sonnet-4-0: 50 × 3 + 10 × 3.75 + 40 × 0.3 + 20 × 15 USD/M = 499.5 µUSD
    expect(translated.cost_nano).toBe(499_500)
    expect(translated.endpoint).toBe('/v1/chat/completions')
  })

  test('streamed without usage: chunks of text, finish stop, no usage chunk, [DONE]', async () => {
    const stream = await client.chat.completions.create({ model, messages: msgs, stream: true })
    let text = ''
    const finishes: string[] = []
    for await (const c of stream) {
      expect(c.choices).toHaveLength(1)
      expect(c.usage ?? null).toBeNull()
      text += c.choices[0]!.delta.content ?? ''
      if (c.choices[0]!.finish_reason) finishes.push(c.choices[0]!.finish_reason)
    }
    expect(text).toBe('Hello from the fake upstream.')
    expect(finishes).toEqual(['stop'])
    expect((env.up.calls.at(-1)!.body as any).stream).toBe(true)
    await untilRow((r) => r?.endpoint === '/v1/chat/completions' && r.cost_nano === 499_500)
  })

  test('streamed with include_usage: the last chunk has no choices and the usage', async () => {
    const stream = await client.chat.completions.create({
      model,
      messages: msgs,
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    const last = chunks.at(-1)!
    expect(last.choices).toEqual([])
    expect(last.usage).toMatchObject({
      prompt_tokens: 100,
      completion_tokens: 20,
      prompt_tokens_details: { cached_tokens: 40 },
    })
    expect(chunks.slice(0, -1).every((c) => c.choices.length === 1)).toBe(true)
  })

  test('a two-step tool loop: tool_calls out, the tool result back as tool_result, then text', async () => {
    const first = await client.chat.completions.create({ model, messages: msgs, tools: [weather] })
    const choice = first.choices[0]!
    expect(choice.finish_reason).toBe('tool_calls')
    const call = choice.message.tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"query":"fake"}' })
    expect((env.up.calls.at(-1)!.body as any).tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather now',
        input_schema: weather.function.parameters,
      },
    ])
    const second = await client.chat.completions.create({
      model,
      tools: [weather],
      tool_choice: 'none',
      messages: [
        ...msgs,
        choice.message,
        { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 °C' },
      ],
    })
    expect(second.choices[0]!.message.content).toBe('Hello from the fake upstream.')
    const sent = env.up.calls.at(-1)!.body as any
    expect(sent.tool_choice).toEqual({ type: 'none' })
    expect(sent.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: call.id, name: 'get_weather', input: { query: 'fake' } }],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 21 °C' }],
      },
    ])
  })

  test('a streamed tool call: ids, names and every argument piece reach the SDK', async () => {
    const stream = await client.chat.completions.create({
      model,
      messages: msgs,
      tools: [weather],
      stream: true,
    })
    let args = ''
    let name = ''
    let finish = ''
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) {
        name += t.function?.name ?? ''
        args += t.function?.arguments ?? ''
      }
      finish = c.choices[0]?.finish_reason ?? finish
    }
    expect({ name, args, finish }).toEqual({
      name: 'get_weather',
      args: '{"query":"fake"}',
      finish: 'tool_calls',
    })
  })

  test('the SDK stream helper: finalChatCompletion() of a streamed tool call', async () => {
    const stream = client.chat.completions.stream({ model, messages: msgs, tools: [weather] })
    const final = await stream.finalChatCompletion()
    const call = final.choices[0]!.message
      .tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"query":"fake"}' })
    expect(call.id).toStartWith('toolu_')
  })

  test('errors in the OpenAI shape: an upstream 400 keeps its words; a bad field is our 400', async () => {
    env.up.setBehavior(() => ({ status: 400, message: 'max_tokens: too large' }))
    try {
      const e = await client.chat.completions.create({ model, messages: msgs }).catch((x) => x)
      expect(e).toBeInstanceOf(OpenAI.BadRequestError)
      expect(e.message).toContain('max_tokens: too large')
      expect(e.error).toMatchObject({ type: 'invalid_request_error' })
    } finally {
      env.up.setBehavior(undefined)
    }
    const before = env.up.tally.requests
    const rows = (await usageRows(env.gw, accountId)).length
    const bad = await client.chat.completions
      .create({
        model,
        messages: [
          {
            role: 'user',
            content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }],
          },
        ],
      })
      .catch((x) => x)
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
    expect(bad.param).toBe('messages[0].content[0].type')
    expect(env.up.tally.requests).toBe(before)
    // Refused like bad input before admission: no usage record, nothing held or counted.
    expect((await usageRows(env.gw, accountId)).length).toBe(rows)
    expect(env.gw.deps.holds.heldOf(accountId)).toBe(0)
    expect(env.gw.deps.holds.callsOf(accountId)).toBe(0)
  })
})

describe('no key of the provider', () => {
  test('503 no_available_key naming the provider', async () => {
    const solo = await startProxyEnv({ INIT_KEYS: `sk-only-openai-0003::${env.up.url}` })
    try {
      const a = await addAccount(solo.gw, { creditUsd: 5 })
      const c = new OpenAI({ apiKey: a.key, baseURL: solo.gw.url + '/v1', maxRetries: 0 })
      const e = await c.chat.completions.create({ model, messages: msgs }).catch((x) => x)
      expect(e.status).toBe(503)
      expect(e.message).toContain('anthropic')
      expect(e.code).toBe('no_available_key')
    } finally {
      await solo.close()
    }
  })
})

describe('native calls are untouched', () => {
  test('an OpenAI model on the OpenAI surface: the very bytes sent, no dropped-params header', async () => {
    const text =
      '{ "model" : "gpt-4o-mini",  "messages":[{"role":"user","content":"hi"}], "seed": 1 }'
    const res = await fetch(env.gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: text,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-xgate-dropped-params')).toBeNull()
    await res.text()
    const up = env.up.calls.at(-1)!
    expect(up.path).toBe('/v1/chat/completions')
    expect(up.text).toBe(text)
  })
})
