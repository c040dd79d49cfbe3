// OpenAI Responses requests on Claude models: request pairs, the response object, and a recorded
// Messages stream as Responses events.
import { describe, expect, test } from 'bun:test'
import {
  messageToResponse,
  MessagesToResponsesStream,
} from '../../src/proxy/translate/responses-answer'
import { responsesToMessages } from '../../src/proxy/translate/responses-request'
import { AppError } from '../../src/shared/errors'
import { payloads, recording, run } from './sse'

const opts = { model: 'claude-sonnet-4-0', defaultMaxTokens: 4096 }

describe('responses → messages: request pairs', () => {
  test('string input, instructions as system, max_output_tokens, dropped fields named', () => {
    const { body, dropped } = responsesToMessages(
      {
        model: 'x',
        input: 'Hi',
        instructions: 'Be brief.',
        max_output_tokens: 50,
        store: true,
        text: { format: { type: 'text' } },
      },
      opts,
    )
    expect(body).toEqual({
      model: 'claude-sonnet-4-0',
      max_tokens: 50,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(dropped.names).toEqual(['store', 'text'])
  })

  test('items: messages with parts, function calls and their outputs, reasoning skipped', () => {
    const { body } = responsesToMessages(
      {
        model: 'x',
        input: [
          { role: 'developer', content: 'Use tools.' },
          {
            type: 'message',
            role: 'user',
            content: [
              { type: 'input_text', text: 'Weather?' },
              { type: 'input_image', image_url: 'data:image/png;base64,AAAA' },
            ],
          },
          { type: 'reasoning', id: 'rs_1', summary: [] },
          {
            type: 'function_call',
            call_id: 'call_1',
            name: 'weather',
            arguments: '{"city":"Paris"}',
          },
          { type: 'function_call', call_id: 'call_2', name: 'time', arguments: '{}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'Sunny' },
          { type: 'function_call_output', call_id: 'call_2', output: '12:00' },
        ],
        tools: [
          {
            type: 'function',
            name: 'weather',
            description: 'W',
            parameters: { type: 'object', properties: {} },
          },
        ],
        tool_choice: { type: 'function', name: 'weather' },
      },
      opts,
    )
    expect(body.system).toBe('Use tools.')
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
        ],
      },
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
    expect(body.tools).toEqual([
      { name: 'weather', description: 'W', input_schema: { type: 'object', properties: {} } },
    ])
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'weather' })
  })

  test('stateful and unknown inputs are a 400 naming the field', () => {
    const bad = (req: Record<string, unknown>, param: string) => {
      let err: unknown
      try {
        responsesToMessages({ model: 'x', ...req }, opts)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(AppError)
      expect((err as AppError).param).toBe(param)
    }
    bad({ input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id')
    bad({ input: [] }, 'input')
    bad({ input: [{ role: 'wizard', content: 'x' }] }, 'input[0].role')
    bad({ input: [{ type: 'item_reference', id: 'x' }] }, 'input[0].type')
    bad(
      { input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] },
      'input[0].content[0].image_url',
    )
    bad({ input: 'x', tools: [{ type: 'web_search' }] }, 'tools[0].type')
    bad({ input: 'x', max_output_tokens: 0 }, 'max_output_tokens')
  })
})

const head = {
  model: 'claude-sonnet-4-0',
  createdS: 1700000000,
  request: { instructions: 'Be brief.' },
}

describe('messages answer → response', () => {
  test('text, tool call and thinking as output items; usage with the cached share in input', () => {
    const r = messageToResponse(
      {
        id: 'msg_1',
        model: 'claude-sonnet-4-0',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        usage: {
          input_tokens: 20,
          cache_read_input_tokens: 50,
          cache_creation_input_tokens: 30,
          output_tokens: 7,
        },
      },
      head,
    )
    expect(r).toMatchObject({
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      instructions: 'Be brief.',
      created_at: 1700000000,
    })
    expect(r.output).toEqual([
      { type: 'reasoning', id: 'rs_1_0', summary: [{ type: 'summary_text', text: 'hmm' }] },
      {
        type: 'message',
        id: 'msg_1_1',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Checking.', annotations: [] }],
      },
      {
        type: 'function_call',
        id: 'fc_toolu_1',
        call_id: 'toolu_1',
        name: 'weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      },
    ])
    expect(r.usage).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 50 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 107,
    })
  })

  test('max_tokens is an incomplete response', () => {
    const r = messageToResponse({ id: 'm', content: [], stop_reason: 'max_tokens' }, head)
    expect(r).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    })
  })
})

describe('messages stream → responses events', () => {
  test('created first, items added and done in order, every delta, completed with the whole output', async () => {
    const { evs } = run(
      new MessagesToResponsesStream(head),
      payloads(await recording('anthropic-text-tool.sse')),
    )
    const types = evs.map((e) => e.event)
    expect(types[0]).toBe('response.created')
    expect(types[1]).toBe('response.in_progress')
    expect(types.at(-1)).toBe('response.completed')
    evs.forEach((e, i) => {
      expect(e.data.type).toBe(e.event)
      expect(e.data.sequence_number).toBe(i)
    })
    const added = evs
      .filter((e) => e.event === 'response.output_item.added')
      .map((e) => [e.data.output_index, e.data.item.type])
    expect(added).toEqual([
      [0, 'reasoning'],
      [1, 'message'],
      [2, 'function_call'],
    ])
    const text = evs
      .filter((e) => e.event === 'response.output_text.delta')
      .map((e) => e.data.delta)
      .join('')
    expect(text).toBe('Checking now.')
    const args = evs
      .filter((e) => e.event === 'response.function_call_arguments.delta')
      .map((e) => e.data.delta)
      .join('')
    expect(args).toBe('{"city": "Paris"}')
    const final = evs.at(-1)!.data.response
    expect(final.output.map((o: any) => o.type)).toEqual(['reasoning', 'message', 'function_call'])
    expect(final.output[1].content).toEqual([
      { type: 'output_text', text: 'Checking now.', annotations: [] },
    ])
    expect(final.output[2]).toMatchObject({
      call_id: 'toolu_1',
      name: 'get_weather',
      arguments: '{"city": "Paris"}',
      status: 'completed',
    })
    expect(final.usage).toMatchObject({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 50 },
      output_tokens: 40,
    })
  })
})
