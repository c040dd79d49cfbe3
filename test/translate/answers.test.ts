// Whole answers and errors in the client's dialect: exact pairs, stop reasons both ways, usage
// with each provider's meaning.
import { describe, expect, test } from 'bun:test'
import {
  chatToMessage,
  errorBody,
  errorStatus,
  messageToChat,
} from '../../src/proxy/translate/answers'
import { anthropicStop, openaiFinish } from '../../src/proxy/translate/common'

describe('messages answer → chat answer', () => {
  test('text, thinking and tool_use; usage prompt = input + cache reads + cache writes', () => {
    const out = messageToChat(
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-0',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 'x' },
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        usage: {
          input_tokens: 20,
          cache_creation_input_tokens: 30,
          cache_read_input_tokens: 50,
          output_tokens: 7,
        },
      },
      'claude-sonnet-4-0',
      1700000000,
    )
    expect(out).toEqual({
      id: 'chatcmpl-msg_1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'claude-sonnet-4-0',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking.',
            refusal: null,
            reasoning_content: 'hmm',
            tool_calls: [
              {
                id: 'toolu_1',
                type: 'function',
                function: { name: 'weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 7,
        total_tokens: 107,
        prompt_tokens_details: { cached_tokens: 50 },
      },
    })
  })
})

describe('chat answer → messages answer', () => {
  test('tool calls become tool_use blocks and stop_reason tool_use; cached tokens move out of input', () => {
    const out = chatToMessage(
      {
        id: 'chatcmpl-9',
        object: 'chat.completion',
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_1',
                  type: 'function',
                  function: { name: 'weather', arguments: '{"city":"Paris"}' },
                },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: {
          prompt_tokens: 120,
          completion_tokens: 30,
          total_tokens: 150,
          prompt_tokens_details: { cached_tokens: 100 },
        },
      },
      'gpt-4o-mini',
    )
    expect(out).toEqual({
      id: 'msg_9',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini',
      content: [{ type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 100,
        output_tokens: 30,
      },
    })
  })

  test('text with reasoning_content → thinking then text; length → max_tokens', () => {
    const out = chatToMessage(
      {
        id: 'c',
        choices: [
          { message: { content: 'Hi', reasoning_content: 'plan' }, finish_reason: 'length' },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 2 },
      },
      'deepseek-reasoner',
    )
    expect(out.content).toEqual([
      { type: 'thinking', thinking: 'plan', signature: '' },
      { type: 'text', text: 'Hi' },
    ])
    expect(out.stop_reason).toBe('max_tokens')
    expect(out.model).toBe('deepseek-reasoner')
  })
})

describe('stop reasons both ways', () => {
  test('tool_use ⇄ tool_calls, max_tokens ⇄ length, end_turn/stop_sequence ⇄ stop', () => {
    expect(openaiFinish('tool_use')).toBe('tool_calls')
    expect(openaiFinish('max_tokens')).toBe('length')
    expect(openaiFinish('end_turn')).toBe('stop')
    expect(openaiFinish('stop_sequence')).toBe('stop')
    expect(openaiFinish('refusal')).toBe('content_filter')
    expect(anthropicStop('tool_calls')).toBe('tool_use')
    expect(anthropicStop('length')).toBe('max_tokens')
    expect(anthropicStop('stop')).toBe('end_turn')
    expect(anthropicStop('content_filter')).toBe('refusal')
    expect(openaiFinish(null)).toBeNull()
  })
})

describe('errors in the client dialect', () => {
  test('an Anthropic error to an OpenAI client, and back', () => {
    const anth = {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: too large' },
    }
    expect(errorBody(anth, 400, 'openai')).toEqual({
      error: {
        message: 'max_tokens: too large',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    })
    const oai = {
      error: {
        message: 'Rate limit reached',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    }
    expect(errorBody(oai, 429, 'anthropic')).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Rate limit reached' },
    })
    expect(errorBody(null, 502, 'anthropic').error.type).toBe('api_error')
    expect(errorStatus(529, 'openai')).toBe(503)
    expect(errorStatus(529, 'anthropic')).toBe(529)
    expect(errorBody({ error: { message: 'busy' } }, 529, 'anthropic').error.type).toBe(
      'overloaded_error',
    )
  })
})
