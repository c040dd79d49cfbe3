// Messages requests as Chat Completions requests: exact pairs, cache_control recorded as dropped,
// thinking only where the target reasons, and the 400s for what has no translation.
import { describe, expect, test } from 'bun:test'
import { messagesToChat } from '../../src/proxy/translate/messages-request'
import { AppError } from '../../src/shared/errors'

const tr = (req: Record<string, unknown>, model = 'gpt-4o-mini') => messagesToChat(req, { model })

describe('messages → chat: request pairs', () => {
  test('system blocks first, cache_control dropped and recorded, stream asks for usage', () => {
    const { body, dropped } = tr({
      model: 'claude-x',
      max_tokens: 100,
      system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stop_sequences: ['END'],
      temperature: 0.3,
    })
    expect(body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 100,
      temperature: 0.3,
      stop: ['END'],
      stream: true,
      stream_options: { include_usage: true },
    })
    expect(dropped.header()).toBe('cache_control')
  })

  test('tool_use → assistant tool_calls; tool_result → tool turns before the user text', () => {
    const { body } = tr({
      model: 'c',
      max_tokens: 50,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'use the tool', signature: 's' },
            { type: 'text', text: 'Let me check.' },
            { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [{ type: 'text', text: 'Sunny' }],
            },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'boom', is_error: true },
          ],
        },
      ],
    })
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
      { role: 'user', content: 'And tomorrow?' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: boom' },
    ])
  })

  test('image sources: base64 → data URL, url stays a URL', () => {
    const { body } = tr({
      model: 'c',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
            },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'Same cat?' },
          ],
        },
      ],
    })
    expect(body.messages[0].content).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      { type: 'text', text: 'Same cat?' },
    ])
  })

  test('tools, tool_choice any → required, disable_parallel_tool_use → parallel_tool_calls false', () => {
    const schema = { type: 'object', properties: { q: { type: 'string' } } }
    const { body, dropped } = tr({
      model: 'c',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
      tools: [
        {
          name: 'search',
          description: 'Search',
          input_schema: schema,
          cache_control: { type: 'ephemeral' },
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      top_k: 5,
      metadata: { user_id: 'u1' },
    })
    expect(body.tools).toEqual([
      { type: 'function', function: { name: 'search', parameters: schema, description: 'Search' } },
    ])
    expect(body).toMatchObject({ tool_choice: 'required', parallel_tool_calls: false, user: 'u1' })
    expect(dropped.names).toEqual(['cache_control', 'top_k'])
    const named = tr({
      model: 'c',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ name: 'search', input_schema: schema }],
      tool_choice: { type: 'tool', name: 'search' },
    }).body
    expect(named.tool_choice).toEqual({ type: 'function', function: { name: 'search' } })
  })

  test('thinking → reasoning_effort and max_completion_tokens on a reasoning model; dropped elsewhere', () => {
    const req = {
      model: 'c',
      max_tokens: 20000,
      thinking: { type: 'enabled', budget_tokens: 10000 },
      temperature: 1,
      system: 'S',
      messages: [{ role: 'user', content: 'x' }],
    }
    const o3 = tr(req, 'o3-mini')
    expect(o3.body).toMatchObject({ reasoning_effort: 'high', max_completion_tokens: 20000 })
    expect(o3.body.messages[0]).toEqual({ role: 'developer', content: 'S' })
    expect(o3.body).not.toHaveProperty('temperature')
    expect(o3.dropped.names).toEqual(['temperature'])
    const mini = tr(req)
    expect(mini.body).not.toHaveProperty('reasoning_effort')
    expect(mini.body.max_tokens).toBe(20000)
    expect(mini.dropped.names).toEqual(['thinking'])
  })
})

describe('messages → chat: what cannot be translated is a 400 naming the field', () => {
  const bad = (req: Record<string, unknown>, param: string) => {
    let err: unknown
    try {
      tr(req)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).param).toBe(param)
    expect((err as AppError).status).toBe(400)
  }
  const user = [{ role: 'user', content: 'x' }]
  test('fields', () => {
    bad({ messages: user }, 'max_tokens')
    bad({ max_tokens: 5, messages: [] }, 'messages')
    bad({ max_tokens: 5, messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role')
    bad(
      {
        max_tokens: 5,
        messages: user,
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      },
      'tools[0].type',
    )
    bad({ max_tokens: 5, messages: user, tool_choice: { type: 'maybe' } }, 'tool_choice.type')
    bad({ max_tokens: 5, messages: user, stop_sequences: 'END' }, 'stop_sequences')
    bad(
      {
        max_tokens: 5,
        messages: [
          { role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] },
        ],
      },
      'messages[0].content[0].source.type',
    )
  })
})

describe('messages → chat: tool results with images', () => {
  test('the text stays in the tool turn; the image follows in a user turn (Chat tool turns are text)', () => {
    const { body, dropped } = messagesToChat(
      {
        max_tokens: 10,
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_9',
                content: [
                  { type: 'text', text: 'Screenshot taken.' },
                  {
                    type: 'image',
                    source: { type: 'base64', media_type: 'image/png', data: 'AAAA' },
                  },
                  { type: 'search_result', source: 'x', title: 't', content: [] },
                ],
              },
            ],
          },
        ],
      },
      { model: 'gpt-4o' },
    )
    expect(body.messages).toEqual([
      { role: 'tool', tool_call_id: 'toolu_9', content: 'Screenshot taken.' },
      {
        role: 'user',
        content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
      },
    ])
    expect(dropped.names).toEqual(['tool_result.content[].search_result'])
  })
})
