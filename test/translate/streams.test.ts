// Recorded upstream streams through the stream translators, one event at a time: the client's
// events in order, with content, tool arguments, stop reasons and usage intact.
import { describe, expect, test } from 'bun:test'
import { MessagesToChatStream } from '../../src/proxy/translate/stream-to-chat'
import { ChatToMessagesStream } from '../../src/proxy/translate/stream-to-messages'
import { payloads, recording, run, type Ev } from './sse'

const toMessages = () => new ChatToMessagesStream({ model: 'gpt-4o-mini' })
const toChat = (includeUsage: boolean) =>
  new MessagesToChatStream({ model: 'claude-sonnet-4-0', createdS: 1700000000, includeUsage })

/** Anthropic client events: block starts and stops must nest and their indexes count up from 0. */
function checkBlocks(evs: Ev[]): void {
  let next = 0
  const open = new Set<number>()
  for (const e of evs) {
    expect(e.event).toBe(e.data.type)
    if (e.event === 'content_block_start') {
      expect(e.data.index).toBe(next++)
      open.add(e.data.index)
    } else if (e.event === 'content_block_stop') {
      expect(open.delete(e.data.index)).toBe(true)
    } else if (e.event === 'content_block_delta') {
      expect(e.data.index).toBeLessThan(next)
    }
  }
  expect(open.size).toBe(0)
}

/** Concatenated partial_json per block index. */
const args = (evs: Ev[]) => {
  const out: Record<number, string> = {}
  for (const e of evs)
    if (e.data?.delta?.type === 'input_json_delta')
      out[e.data.index] = (out[e.data.index] ?? '') + e.data.delta.partial_json
  return out
}

describe('OpenAI stream → Anthropic events', () => {
  test('parallel tool calls from the first chunk: message_start first, two tool_use blocks, usage', async () => {
    const { evs } = run(toMessages(), payloads(await recording('openai-tool-first.sse')))
    expect(evs.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    checkBlocks(evs)
    expect(evs[1]!.data.content_block).toEqual({
      type: 'tool_use',
      id: 'call_a',
      name: 'get_weather',
      input: {},
    })
    expect(evs[5]!.data.content_block).toMatchObject({ id: 'call_b', name: 'get_time' })
    expect(args(evs)).toEqual({ 0: '{"city":"Paris"}', 1: '{"tz":"CET"}' })
    expect(evs[9]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 100,
        output_tokens: 30,
      },
    })
    expect(evs[0]!.data.message).toMatchObject({
      id: 'msg_t1',
      role: 'assistant',
      model: 'gpt-4o-mini',
      content: [],
    })
  })

  test('reasoning, text, then a tool: blocks 0, 1, 2 in order; finish "stop" with tools is tool_use', async () => {
    const { evs } = run(toMessages(), payloads(await recording('openai-reasoning-text-tool.sse')))
    checkBlocks(evs)
    const starts = evs
      .filter((e) => e.event === 'content_block_start')
      .map((e) => e.data.content_block.type)
    expect(starts).toEqual(['thinking', 'text', 'tool_use'])
    const thinking = evs
      .filter((e) => e.data?.delta?.type === 'thinking_delta')
      .map((e) => e.data.delta.thinking)
    expect(thinking.join('')).toBe('Think first.')
    expect(args(evs)).toEqual({ 2: '{"q":"x"}' })
    const delta = evs.find((e) => e.event === 'message_delta')!
    expect(delta.data.delta.stop_reason).toBe('tool_use')
    expect(delta.data.usage).toMatchObject({ input_tokens: 50, output_tokens: 20 })
    expect(evs.at(-1)!.event).toBe('message_stop')
  })

  test('each upstream chunk yields its own events at once (nothing held back)', async () => {
    const { pieces } = run(toMessages(), payloads(await recording('openai-no-usage.sse')))
    expect(pieces[0]).toContain('event: message_start')
    expect(pieces[1]).toContain('"text":"Hel"')
    expect(pieces[2]).toContain('"text":"lo"')
  })

  test('a stream cut before any finish reason ends with an error event, not a fake message_stop', async () => {
    const recorded = payloads(await recording('openai-no-usage.sse')).slice(0, 2)
    const { evs } = run(toMessages(), recorded)
    expect(evs.at(-1)!.event).toBe('error')
    expect(evs.some((e) => e.event === 'message_stop')).toBe(false)
  })

  test('a refusal streams as text; content_filter is stop_reason refusal', () => {
    const t = toMessages()
    const c = (delta: unknown, finish: string | null = null) =>
      JSON.stringify({ id: 'r', choices: [{ index: 0, delta, finish_reason: finish }] })
    const out = [
      c({ role: 'assistant', refusal: "I can't help with that." }),
      c({}, 'content_filter'),
      '[DONE]',
    ]
    const { evs } = run(t, out)
    const text = evs
      .filter((e) => e.data?.delta?.type === 'text_delta')
      .map((e) => e.data.delta.text)
    expect(text).toEqual(["I can't help with that."])
    expect(evs.find((e) => e.event === 'message_delta')!.data.delta.stop_reason).toBe('refusal')
  })

  test('an upstream error chunk becomes an Anthropic error event', () => {
    const t = toMessages()
    const out = t.event('{"error":{"message":"overloaded","type":"server_error"}}')
    expect(out).toStartWith('event: error\n')
    expect(JSON.parse(out.split('data: ')[1]!)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'overloaded' },
    })
  })
})

describe('Anthropic stream → OpenAI chunks', () => {
  test('thinking, text and a tool call; finish tool_calls; usage chunk when asked; [DONE] last', async () => {
    const { evs } = run(toChat(true), payloads(await recording('anthropic-text-tool.sse')))
    expect(evs.at(-1)!.data).toBe('[DONE]')
    const chunks = evs.slice(0, -1).map((e) => e.data)
    for (const c of chunks)
      expect(c).toMatchObject({
        id: 'chatcmpl-msg_a1',
        object: 'chat.completion.chunk',
        created: 1700000000,
      })
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' })
    const deltas = chunks.filter((c) => c.choices.length).map((c) => c.choices[0].delta)
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('Weather needs a tool.')
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('Checking now.')
    const calls = deltas.flatMap((d) => d.tool_calls ?? [])
    expect(calls[0]).toEqual({
      index: 0,
      id: 'toolu_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    })
    expect(calls.map((c) => c.function.arguments).join('')).toBe('{"city": "Paris"}')
    const finishes = chunks
      .filter((c) => c.choices[0]?.finish_reason)
      .map((c) => c.choices[0].finish_reason)
    expect(finishes).toEqual(['tool_calls'])
    const last = chunks.at(-1)
    expect(last.choices).toEqual([])
    expect(last.usage).toEqual({
      prompt_tokens: 100,
      completion_tokens: 40,
      total_tokens: 140,
      prompt_tokens_details: { cached_tokens: 50 },
    })
    // Every chunk but the usage one says usage: null, as OpenAI's do when usage was asked for.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
  })

  test('without include_usage no usage chunk reaches the client and no chunk has a usage field', async () => {
    const { evs } = run(toChat(false), payloads(await recording('anthropic-text-tool.sse')))
    expect(evs.at(-1)!.data).toBe('[DONE]')
    const chunks = evs.slice(0, -1).map((e) => e.data)
    expect(chunks.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true)
  })

  test('pings become SSE comments, which clients skip', async () => {
    const recorded = payloads(await recording('anthropic-text-tool.sse'))
    const { pieces } = run(toChat(false), recorded)
    const at = recorded.findIndex((p) => p.includes('"ping"'))
    expect(pieces[at]).toBe(': ping\n\n')
  })

  test('an Anthropic error event becomes an OpenAI error chunk', () => {
    const t = toChat(false)
    const out = t.event(
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    )
    expect(JSON.parse(out.slice(6))).toMatchObject({ error: { message: 'Overloaded' } })
  })
})
