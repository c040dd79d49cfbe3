// Chat Completions requests as Messages requests: exact pairs, and the 400s for what has no
// translation.
import { describe, expect, test } from 'bun:test'
import { chatToMessages } from '../../src/proxy/translate/chat-request'
import { AppError } from '../../src/shared/errors'

const opts = { model: 'claude-sonnet-4-0', defaultMaxTokens: 4096 }
const tr = (req: Record<string, unknown>) => chatToMessages(req, opts)

describe('chat → messages: request pairs', () => {
  test('system and developer turns hoisted into system; user text stays a string', () => {
    const { body, dropped } = tr({
      model: 'claude-x',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hi' },
      ],
    })
    expect(body).toEqual({
      model: 'claude-sonnet-4-0',
      max_tokens: 4096,
      system: 'Be brief.\n\nAnswer in French.',
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(dropped.header()).toBeNull()
  })

  test('a tool loop: tool_calls → tool_use, tool turns → one user turn of tool_result blocks', () => {
    const { body } = tr({
      model: 'm',
      max_completion_tokens: 300,
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'weather', arguments: '{"city":"Paris"}' },
            },
            { id: 'call_2', type: 'function', function: { name: 'time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '12:00' }] },
      ],
    })
    expect(body.max_tokens).toBe(300)
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather and time in Paris?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: 'Sunny' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '12:00' },
        ],
      },
    ])
  })

  test('tool definitions, tool_choice required → any, parallel_tool_calls false', () => {
    const params = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
    const { body } = tr({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [
        {
          type: 'function',
          function: { name: 'weather', description: 'Weather now', parameters: params },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
    })
    expect(body.tools).toEqual([
      { name: 'weather', description: 'Weather now', input_schema: params },
    ])
    expect(body.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true })
    const named = tr({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'weather' } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
    }).body
    expect(named.tool_choice).toEqual({ type: 'tool', name: 'weather' })
    expect(named.tools[0].input_schema).toEqual({ type: 'object', properties: {} })
  })

  test('stop: a string becomes a one-element list; lists stay lists', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'x' }] }
    expect(tr({ ...base, stop: 'END' }).body.stop_sequences).toEqual(['END'])
    expect(tr({ ...base, stop: ['a', 'b'] }).body.stop_sequences).toEqual(['a', 'b'])
    expect(tr({ ...base, stop: null }).body.stop_sequences).toBeUndefined()
  })

  test('temperature clamped to [0, 1]; top_p and user carried', () => {
    const { body } = tr({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      temperature: 1.7,
      top_p: 0.9,
      user: 'u-42',
    })
    expect(body).toMatchObject({ temperature: 1, top_p: 0.9, metadata: { user_id: 'u-42' } })
    expect(
      tr({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: -1 }).body
        .temperature,
    ).toBe(0)
  })

  test('parameters without an equivalent are dropped and listed, in order', () => {
    const { body, dropped } = tr({
      model: 'm',
      messages: [{ role: 'user', content: 'x', name: 'bob' }],
      frequency_penalty: 0.5,
      seed: 7,
      logprobs: true,
      n: 2,
      stream_options: { include_usage: true },
      stream: true,
      store: false,
      top_logprobs: null,
    })
    // A parameter set to false or null asks for nothing: it is not reported as dropped.
    expect(dropped.header()).toBe('messages[].name,n,frequency_penalty,logprobs,seed')
    expect(body.stream).toBe(true)
    expect(body).not.toHaveProperty('seed')
    expect(body).not.toHaveProperty('stream_options')
  })

  test('reasoning_effort becomes a thinking budget below max_tokens, sampling dropped', () => {
    const { body, dropped } = tr({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 8000,
      reasoning_effort: 'medium',
      temperature: 0.2,
    })
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 })
    expect(body).not.toHaveProperty('temperature')
    expect(dropped.names).toContain('temperature')
    const small = tr({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 500,
      reasoning_effort: 'high',
    })
    expect(small.body).not.toHaveProperty('thinking')
    expect(small.dropped.names).toEqual(['reasoning_effort'])
  })

  test('consecutive user turns merge (Messages alternates roles)', () => {
    const { body } = tr({
      model: 'm',
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: [{ type: 'text', text: 'two' }] },
      ],
    })
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
    ])
  })
})

describe('chat → messages: what cannot be translated is a 400 naming the field', () => {
  const bad = (req: Record<string, unknown>, param: string) => {
    let err: unknown
    try {
      tr(req)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).status).toBe(400)
    expect((err as AppError).param).toBe(param)
    expect((err as AppError).message).toContain(param)
  }
  const user = [{ role: 'user', content: 'x' }]
  test('fields', () => {
    bad({ model: 'm', messages: [] }, 'messages')
    bad({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role')
    bad({ model: 'm', messages: user, stop: [1] }, 'stop')
    bad({ model: 'm', messages: user, max_tokens: 0 }, 'max_tokens')
    bad({ model: 'm', messages: user, tools: [{ type: 'web_search' }] }, 'tools[0].type')
    bad(
      { model: 'm', messages: user, tools: [{ type: 'function', function: {} }] },
      'tools[0].function.name',
    )
    bad({ model: 'm', messages: user, tools: [], tool_choice: 'sometimes' }, 'tool_choice')
    bad(
      {
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }],
      },
      'messages[0].content[0].type',
    )
    bad(
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }],
          },
        ],
      },
      'messages[0].content[0].image_url.url',
    )
    bad({ model: 'm', messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id')
  })
})
