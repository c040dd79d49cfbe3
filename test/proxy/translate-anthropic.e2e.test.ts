// The Anthropic SDK on an OpenAI model, end to end: the gateway sends Chat Completions to openai
// keys and answers in Messages (messages.create, messages.stream() and its helpers, a tool loop,
// count_tokens estimated by the tokenizer, errors), billed as the native chat call.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { estimatePromptTokens } from '../../src/billing/tokens'
import { OPENAI_SECRET, addAccount, startProxyEnv, usageRows, type ProxyEnv } from './fixtures'

let env: ProxyEnv
let client: Anthropic
let key: string
let accountId: number
const model = 'gpt-4o-mini'
const req = {
  model,
  max_tokens: 64,
  system: 'Be brief.',
  messages: [{ role: 'user' as const, content: 'Say hello' }],
}
const tool = {
  name: 'get_weather',
  description: 'Weather now',
  input_schema: { type: 'object' as const, properties: { query: { type: 'string' } } },
}

beforeAll(async () => {
  env = await startProxyEnv({}, { promptTokens: 100, cachedTokens: 40, completionTokens: 20 })
  const a = await addAccount(env.gw, { creditUsd: 50 })
  key = a.key
  accountId = a.account.id
  client = new Anthropic({ apiKey: key, baseURL: env.gw.url, maxRetries: 0 })
})
afterAll(() => env.close())

const lastRow = async () => (await usageRows(env.gw, accountId)).at(-1)
/** Waits for the last usage row to satisfy `ok` (a stream settles after its last byte). */
async function untilRow(ok: (row: any) => boolean, ms = 2000): Promise<void> {
  for (const end = Date.now() + ms; !ok(await lastRow()); await Bun.sleep(5))
    if (Date.now() > end) throw new Error('usage row not written in time')
}

describe('Anthropic SDK → OpenAI model', () => {
  test('messages.create: a chat request upstream with Bearer auth, a message back', async () => {
    const m = await client.messages.create(req)
    expect(m.type).toBe('message')
    expect(m.content as unknown[]).toEqual([
      { type: 'text', text: 'Hello from the fake upstream.' },
    ])
    expect(m.stop_reason).toBe('end_turn')
    // OpenAI's 100 prompt tokens include the 40 cached: Anthropic's input_tokens excludes them.
    expect(m.usage).toMatchObject({
      input_tokens: 60,
      cache_read_input_tokens: 40,
      output_tokens: 20,
    })
    const up = env.up.calls.at(-1)!
    expect(up.path).toBe('/v1/chat/completions')
    expect(up.key).toBe(OPENAI_SECRET)
    expect(up.headers['anthropic-version']).toBeUndefined()
    expect(up.headers['x-api-key']).toBeUndefined()
    expect(up.body).toEqual({
      model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
      max_tokens: 64,
    })
  })

  test('billed like the native chat call of the same tokens, to the nano-dollar', async () => {
    await client.messages.create(req)
    const translated = await lastRow()
    const native = new OpenAI({ apiKey: key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    await native.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Say hello' }],
    })
    const direct = await lastRow()
    expect(direct.request_id).not.toBe(translated.request_id)
    for (const f of [
      'prompt_tokens',
      'completion_tokens',
      'cached_tokens',
      'list_nano',
      'cost_nano',
      'estimated',
    ])
      expect(translated[f]).toBe(direct[f])
    // gpt-4o-mini: 60 × 0.15 + 40 × 0.075 + 20 × 0.6 USD/M = 24 µUSD
    expect(translated.cost_nano).toBe(24_000)
  })

  test('cache_control is dropped upstream and named in x-xgate-dropped-params', async () => {
    // top_k is a Messages parameter this SDK's types leave out: the body is built apart.
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      ...req,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    }
    const { response } = await client.messages.create({ ...body, ...{ top_k: 5 } }).withResponse()
    expect(response.headers.get('x-xgate-dropped-params')).toBe('cache_control,top_k')
    expect(JSON.stringify(env.up.calls.at(-1)!.body)).not.toContain('cache_control')
  })

  test('messages.stream(): text events, finalMessage and finalText; usage asked upstream', async () => {
    const stream = client.messages.stream(req)
    const types: string[] = []
    let texts = ''
    stream.on('text', (t) => (texts += t))
    for await (const e of stream) types.push(e.type)
    const final = await stream.finalMessage()
    expect(await stream.finalText()).toBe('Hello from the fake upstream.')
    expect(texts).toBe('Hello from the fake upstream.')
    expect(types[0]).toBe('message_start')
    expect(types.at(-1)).toBe('message_stop')
    expect(final.stop_reason).toBe('end_turn')
    expect(final.usage).toMatchObject({
      input_tokens: 60,
      cache_read_input_tokens: 40,
      output_tokens: 20,
    })
    expect((env.up.calls.at(-1)!.body as any).stream_options).toEqual({ include_usage: true })
    await untilRow((r) => r?.endpoint === '/v1/messages' && r.cost_nano === 24_000)
  })

  test('a tool loop: tool_use (streamed, with inputJson events), tool_result back, then text', async () => {
    const stream = client.messages.stream({ ...req, tools: [tool] })
    const pieces: string[] = []
    stream.on('inputJson', (partial) => pieces.push(partial))
    const first = await stream.finalMessage()
    expect(first.stop_reason).toBe('tool_use')
    const use = first.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock
    expect(use).toMatchObject({ name: 'get_weather', input: { query: 'fake' } })
    expect(pieces.join('')).toBe('{"query":"fake"}')
    const second = await client.messages.create({
      ...req,
      tools: [tool],
      tool_choice: { type: 'none' },
      messages: [
        ...req.messages,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'Sunny' }] },
      ],
    })
    expect(second.content as unknown[]).toEqual([
      { type: 'text', text: 'Hello from the fake upstream.' },
    ])
    const sent = env.up.calls.at(-1)!.body as any
    expect(sent.tool_choice).toBe('none')
    expect(sent.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: use.id,
            type: 'function',
            function: { name: 'get_weather', arguments: '{"query":"fake"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: use.id, content: 'Sunny' },
    ])
  })

  test('messages.create with tools: a tool_use block and stop_reason tool_use', async () => {
    const m = await client.messages.create({ ...req, tools: [tool] })
    expect(m.stop_reason).toBe('tool_use')
    expect(m.content[0]).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: { query: 'fake' },
    })
  })

  test('count_tokens is estimated by the tokenizer: nothing sent upstream, free', async () => {
    const before = env.up.tally.requests
    const body = { model, system: 'Be brief.', messages: req.messages, tools: [tool] }
    const n = await client.messages.countTokens(body)
    expect(n.input_tokens).toBe(estimatePromptTokens(body))
    expect(n.input_tokens).toBeGreaterThan(5)
    expect(env.up.tally.requests).toBe(before)
    expect(await lastRow()).toMatchObject({
      endpoint: '/v1/messages/count_tokens',
      cost_nano: 0,
      status: 200,
    })
  })

  test('errors in the Anthropic shape and classes; a field with no translation is our 400', async () => {
    env.up.setBehavior(() => ({ status: 400, message: 'max_tokens is too large' }))
    try {
      const e = await client.messages.create(req).catch((x) => x)
      expect(e).toBeInstanceOf(Anthropic.BadRequestError)
      expect(e.error).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens is too large' },
      })
    } finally {
      env.up.setBehavior(undefined)
    }
    const before = env.up.tally.requests
    const rows = (await usageRows(env.gw, accountId)).length
    const bad = await client.messages
      .create({ ...req, tools: [{ type: 'web_search_20250305', name: 'web_search' }] })
      .catch((x) => x)
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError)
    expect(bad.message).toContain('tools[0].type')
    expect(env.up.tally.requests).toBe(before)
    expect((await usageRows(env.gw, accountId)).length).toBe(rows)
  })
})
