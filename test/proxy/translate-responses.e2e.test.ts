// The OpenAI SDK's Responses API on a Claude model, end to end: responses.create, the
// responses.stream() helper with finalResponse(), and a function-call loop, billed as the native
// Messages call of the same tokens.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { ANTHROPIC_SECRET, addAccount, startProxyEnv, usageRows, type ProxyEnv } from './fixtures'

let env: ProxyEnv
let client: OpenAI
let accountId: number
const model = 'claude-sonnet-4-0'
const tool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather now',
  parameters: { type: 'object', properties: { query: { type: 'string' } } },
  strict: false,
}

beforeAll(async () => {
  env = await startProxyEnv(
    {},
    { promptTokens: 100, cachedTokens: 40, cacheCreationTokens: 10, completionTokens: 20 },
  )
  const a = await addAccount(env.gw, { creditUsd: 50 })
  accountId = a.account.id
  client = new OpenAI({ apiKey: a.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
})
afterAll(() => env.close())

const lastRow = async () => (await usageRows(env.gw, accountId)).at(-1)
async function untilRow(ok: (row: any) => boolean, ms = 2000): Promise<void> {
  for (const end = Date.now() + ms; !ok(await lastRow()); await Bun.sleep(5))
    if (Date.now() > end) throw new Error('usage row not written in time')
}

describe('OpenAI Responses → Claude model', () => {
  test('responses.create: output_text, usage, upstream Messages with instructions as system', async () => {
    const r = await client.responses.create({
      model,
      instructions: 'Be brief.',
      input: 'Say hello',
    })
    expect(r.object).toBe('response')
    expect(r.status).toBe('completed')
    expect(r.output_text).toBe('Hello from the fake upstream.')
    expect(r.usage).toMatchObject({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 40 },
      output_tokens: 20,
    })
    const up = env.up.calls.at(-1)!
    expect(up.path).toBe('/v1/messages')
    expect(up.key).toBe(ANTHROPIC_SECRET)
    expect(up.body).toMatchObject({
      model,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Say hello' }],
    })
    expect((await lastRow()).cost_nano).toBe(499_500)
  })

  test('responses.stream(): text deltas, finalResponse, billed once the stream ends', async () => {
    const stream = client.responses.stream({ model, input: 'Say hello' })
    let text = ''
    stream.on('response.output_text.delta', (e) => (text += e.delta))
    const final = await stream.finalResponse()
    expect(text).toBe('Hello from the fake upstream.')
    expect(final.output_text).toBe('Hello from the fake upstream.')
    expect(final.status).toBe('completed')
    expect((env.up.calls.at(-1)!.body as any).stream).toBe(true)
    await untilRow((r) => r?.endpoint === '/v1/responses' && r.cost_nano === 499_500)
  })

  test('a function-call loop: function_call out (streamed), function_call_output back, then text', async () => {
    const stream = client.responses.stream({ model, input: 'Weather?', tools: [tool] })
    const first = await stream.finalResponse()
    const call = first.output.find(
      (o) => o.type === 'function_call',
    ) as OpenAI.Responses.ResponseFunctionToolCall
    expect(call).toMatchObject({ name: 'get_weather', arguments: '{"query":"fake"}' })
    const second = await client.responses.create({
      model,
      tools: [tool],
      tool_choice: 'none',
      input: [
        { role: 'user', content: 'Weather?' },
        {
          type: 'function_call',
          call_id: call.call_id,
          name: call.name,
          arguments: call.arguments,
        },
        { type: 'function_call_output', call_id: call.call_id, output: 'Sunny' },
      ],
    })
    expect(second.output_text).toBe('Hello from the fake upstream.')
    const sent = env.up.calls.at(-1)!.body as any
    expect(sent.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: call.call_id, name: 'get_weather', input: { query: 'fake' } },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: call.call_id, content: 'Sunny' }],
      },
    ])
  })

  test('previous_response_id has no translation: a 400 naming it, nothing sent or recorded', async () => {
    const before = env.up.tally.requests
    const rows = (await usageRows(env.gw, accountId)).length
    const e = await client.responses
      .create({ model, input: 'again', previous_response_id: 'resp_123' })
      .catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.BadRequestError)
    expect(e.param).toBe('previous_response_id')
    expect(env.up.tally.requests).toBe(before)
    expect((await usageRows(env.gw, accountId)).length).toBe(rows)
  })
})
