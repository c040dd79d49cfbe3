// Tests for token estimates: exact on ordinary text, bounded on pathological text, every request
// shape of the OpenAI and Anthropic surfaces, and no throw on any input.

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { countTokens as bpeCount } from 'gpt-tokenizer'
import {
  countTokens,
  estimateCompletionTokens,
  estimatePromptTokens,
} from '../../src/billing/tokens'

const PROSE = 'The quick brown fox jumps over the lazy dog, then files a bug report. '
const exact = (s: string) => bpeCount(s, { disallowedSpecial: new Set<string>() })
// Per-message framing (3) and reply priming (3) as counted by tokens.ts.
const framed = (messages: number) => messages * 3 + 3

describe('countTokens', () => {
  test('matches the tokenizer exactly on ordinary text', () => {
    expect(countTokens('hello world')).toBe(2)
    const samples = [
      PROSE,
      PROSE.repeat(50),
      'Grüße aus Köln — 東京は晴れ。',
      'const x = [1, 2, 3]\n',
      JSON.stringify({
        messages: [{ role: 'user', content: PROSE }],
        url: 'https://x.test/a/b?c=d',
      }),
    ]
    for (const s of samples) {
      expect(countTokens(s)).toBe(exact(s))
    }
  })

  test('counts special-token text as text instead of throwing', () => {
    expect(countTokens('a <|endoftext|> b')).toBeGreaterThan(3)
  })

  test('non-strings and empty strings count 0', () => {
    for (const v of ['', undefined, null, 42, {}, [], Symbol('x')]) expect(countTokens(v)).toBe(0)
  })

  test('long single-character runs stay close to the true count', () => {
    // o200k packs 8 'a's per token; a raw BPE pass over this run would take minutes.
    const n = countTokens('a'.repeat(200_000))
    expect(n).toBeGreaterThan(24_000)
    expect(n).toBeLessThan(27_000)
  })

  test('alternating scripts that form one long pre-split piece are counted', () => {
    // '!，' and '!😀' are each one punctuation piece in the pre-split, whatever their length.
    expect(countTokens('!，'.repeat(50_000))).toBeGreaterThan(50_000)
    expect(countTokens('!😀'.repeat(50_000))).toBeGreaterThan(50_000)
    expect(countTokens('\u3000a'.repeat(50_000))).toBe(100_000)
  })

  test('unspaced CJK text stays within 2% of the exact count', () => {
    const sample = '我们今天去公园散步，天气很好。'
    const n = countTokens(sample.repeat(4000))
    const truth = exact(sample) * 4000
    expect(Math.abs(n - truth) / truth).toBeLessThan(0.02)
  })

  test('text beyond the exact budget is sampled within 1%', () => {
    const block = PROSE.repeat(100)
    const text = block.repeat(200) // 1.4 MB
    const truth = exact(block) * 200
    expect(Math.abs(countTokens(text) - truth) / truth).toBeLessThan(0.01)
  })

  test('estimateCompletionTokens counts generated text', () => {
    expect(estimateCompletionTokens(PROSE)).toBe(exact(PROSE))
    expect(estimateCompletionTokens(undefined)).toBe(0)
  })
})

describe('estimatePromptTokens, OpenAI shapes', () => {
  test('chat with string content', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: PROSE },
      ],
    }
    expect(estimatePromptTokens(body)).toBe(exact('Be brief.') + exact(PROSE) + framed(2))
  })

  test('chat with content parts and images', () => {
    const parts = (detail: string) => ({
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: PROSE },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail } },
          ],
        },
      ],
    })
    expect(estimatePromptTokens(parts('high'))).toBe(exact(PROSE) + 765 + framed(1))
    expect(estimatePromptTokens(parts('low'))).toBe(exact(PROSE) + 85 + framed(1))
  })

  test('chat tools, tool calls and tool results', () => {
    const tools = [
      {
        type: 'function',
        function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
      },
    ]
    const messages = [
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'Sunny' },
    ]
    const withTools = estimatePromptTokens({ model: 'gpt-4o', messages, tools })
    const withoutTools = estimatePromptTokens({ model: 'gpt-4o', messages })
    expect(withTools - withoutTools).toBe(exact(JSON.stringify(tools)))
    const expected =
      exact('Weather?') +
      exact('get_weather') +
      exact('{"city":"Oslo"}') +
      exact('Sunny') +
      framed(3)
    expect(withoutTools).toBe(expected)
  })

  test('completions prompt as string, strings and token ids', () => {
    expect(estimatePromptTokens({ prompt: PROSE })).toBe(exact(PROSE))
    expect(estimatePromptTokens({ prompt: [PROSE, 'hello world'] })).toBe(exact(PROSE) + 2)
    expect(estimatePromptTokens({ prompt: [1, 2, 3] })).toBe(3)
  })

  test('embeddings and moderations input', () => {
    expect(estimatePromptTokens({ input: 'hello world' })).toBe(2)
    expect(estimatePromptTokens({ input: ['hello world', PROSE] })).toBe(2 + exact(PROSE))
    expect(estimatePromptTokens({ input: [[1, 2], [3]] })).toBe(3)
  })

  test('responses: instructions and input items', () => {
    expect(estimatePromptTokens({ instructions: 'Be brief.', input: PROSE })).toBe(
      exact('Be brief.') + exact(PROSE),
    )
    const body = {
      input: [
        { role: 'user', content: [{ type: 'input_text', text: PROSE }] },
        { type: 'function_call_output', call_id: 'c1', output: 'Sunny' },
      ],
    }
    expect(estimatePromptTokens(body)).toBe(exact(PROSE) + exact('Sunny') + framed(1))
  })
})

describe('estimatePromptTokens, Anthropic messages', () => {
  test('system string, blocks, tool_use input and tool_result', () => {
    const body = {
      model: 'claude-sonnet-4-5',
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [
        { role: 'user', content: PROSE },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: { q: 'fox' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'Found' }] },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
        },
      ],
    }
    const expected =
      exact('Be brief.') +
      exact(PROSE) +
      exact('lookup') +
      exact('{"q":"fox"}') +
      exact('Found') +
      765 +
      framed(3)
    expect(estimatePromptTokens(body)).toBe(expected)
    expect(estimatePromptTokens({ ...body, system: 'Be brief.' })).toBe(expected)
  })

  test('tools with input_schema are counted', () => {
    const body = { messages: [], tools: [{ name: 'lookup', input_schema: { type: 'object' } }] }
    expect(estimatePromptTokens(body)).toBe(exact(JSON.stringify(body.tools)) + framed(0))
  })
})

describe('estimatePromptTokens never throws', () => {
  test('on arbitrary JSON-like values', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const n = estimatePromptTokens(v)
        return Number.isSafeInteger(n) && n >= 0
      }),
    )
  })

  test('on arbitrary values under known keys', () => {
    const key = fc.constantFrom('messages', 'input', 'prompt', 'system', 'tools', 'instructions')
    fc.assert(
      fc.property(fc.dictionary(key, fc.anything()), (body) => {
        const n = estimatePromptTokens(body)
        return Number.isSafeInteger(n) && n >= 0
      }),
    )
  })

  test('on deep nesting, cycles and throwing getters', () => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(estimatePromptTokens({ messages: deep })).toBe(3)

    const cyclic: Record<string, unknown> = { name: 'f' }
    cyclic.self = cyclic
    expect(estimatePromptTokens({ prompt: 'hello world', tools: [cyclic] })).toBe(2)

    const hostile = {
      get messages(): unknown {
        throw new Error('boom')
      },
    }
    expect(estimatePromptTokens(hostile)).toBe(0)
  })
})
