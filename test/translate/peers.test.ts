// Each translation bug other gateways shipped, as a fixture that would catch it here.
import { describe, expect, test } from 'bun:test'
import { chatToMessage, messageToChat } from '../../src/proxy/translate/answers'
import { chatToMessages } from '../../src/proxy/translate/chat-request'
import { MessagesToChatStream } from '../../src/proxy/translate/stream-to-chat'
import { ChatToMessagesStream } from '../../src/proxy/translate/stream-to-messages'
import { payloads, recording, run } from './sse'

const toMessages = () => new ChatToMessagesStream({ model: 'gpt-4o-mini' })
const chatReq = (extra: Record<string, unknown>) =>
  chatToMessages(
    { model: 'm', messages: [{ role: 'user', content: 'x' }], ...extra },
    { model: 'claude-sonnet-4-0', defaultMaxTokens: 1024 },
  ).body

describe('bugs other gateways shipped', () => {
  test('message_start missing before a tool call (CLIProxyAPI #561)', async () => {
    const recorded = payloads(await recording('openai-tool-first.sse'))
    // The recording's very first chunk is a tool call, without a role-only chunk before it.
    expect(JSON.parse(recorded[0]!).choices[0].delta.tool_calls).toHaveLength(1)
    const { evs } = run(toMessages(), recorded)
    expect(evs[0]!.event).toBe('message_start')
    expect(evs[1]!.event).toBe('content_block_start')
  })

  test('no message_stop when the upstream sends finish_reason without usage (new-api #5345)', async () => {
    const { evs } = run(toMessages(), payloads(await recording('openai-no-usage.sse')))
    expect(evs.slice(-2).map((e) => e.event)).toEqual(['message_delta', 'message_stop'])
    expect(evs.at(-2)!.data.delta.stop_reason).toBe('end_turn')
    // Not even [DONE]: the body just ends after the finish reason.
    const cut = payloads(await recording('openai-no-usage.sse')).filter((p) => p !== '[DONE]')
    expect(run(toMessages(), cut).evs.at(-1)!.event).toBe('message_stop')
  })

  test('scrambled block indexes (new-api #5483): consecutive from 0 across kinds', async () => {
    const { evs } = run(toMessages(), payloads(await recording('openai-reasoning-text-tool.sse')))
    const idx = evs.filter((e) => e.event === 'content_block_start').map((e) => e.data.index)
    expect(idx).toEqual([0, 1, 2])
    for (const e of evs.filter((x) => x.event === 'content_block_delta')) {
      const start = evs.findIndex(
        (x) => x.event === 'content_block_start' && x.data.index === e.data.index,
      )
      expect(start).toBeGreaterThanOrEqual(0)
    }
  })

  test('dropped input_json_delta (LiteLLM #29491): every argument piece arrives, in order', async () => {
    const recorded = payloads(await recording('openai-tool-first.sse'))
    const sent = recorded
      .filter((p) => p.startsWith('{'))
      .flatMap((p) => JSON.parse(p).choices[0]?.delta?.tool_calls ?? [])
      .map((t: any) => t.function.arguments)
      .filter((a: string) => a !== '')
    const { evs } = run(toMessages(), recorded)
    const got = evs
      .filter((e) => e.data?.delta?.type === 'input_json_delta')
      .map((e) => e.data.delta.partial_json)
    expect(got).toEqual(sent)
    // Interleaved parallel calls: a late piece for an earlier call still goes out, under its index.
    const t = toMessages()
    const c = (tc: unknown) =>
      JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { tool_calls: [tc] } }] })
    const out = [
      t.event(c({ index: 0, id: 'a', function: { name: 'f', arguments: '{"a":' } })),
      t.event(c({ index: 1, id: 'b', function: { name: 'g', arguments: '{}' } })),
      t.event(c({ index: 0, function: { arguments: '1}' } })),
    ].join('')
    expect(out).toContain(
      '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"1}"}}',
    )
  })

  test('tool_use leaking as a finish reason (Bifrost #617)', async () => {
    const { evs } = run(
      new MessagesToChatStream({ model: 'c', createdS: 1, includeUsage: false }),
      payloads(await recording('anthropic-text-tool.sse')),
    )
    const finishes = evs
      .filter((e) => e.data !== '[DONE]')
      .map((e) => e.data.choices[0].finish_reason)
      .filter(Boolean)
    expect(finishes).toEqual(['tool_calls'])
    const whole = messageToChat(
      {
        id: 'm',
        content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }],
        stop_reason: 'tool_use',
      },
      'c',
      1,
    )
    expect(whole.choices[0].finish_reason).toBe('tool_calls')
  })

  test('tool_calls not mapped back (axonhub #1924)', () => {
    const m = chatToMessage(
      {
        id: 'c',
        choices: [
          {
            message: {
              content: null,
              tool_calls: [
                { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
      },
      'gpt-4o-mini',
    )
    expect(m.stop_reason).toBe('tool_use')
    expect(m.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'f', input: { x: 1 } }])
  })

  test('a one-element stop list turned into a string (new-api #7175)', () => {
    expect(chatReq({ stop: ['\n\nHuman:'] }).stop_sequences).toEqual(['\n\nHuman:'])
  })

  test('cached tokens under-reported (genkit #5412)', async () => {
    // OpenAI → Anthropic: the 100 cached of 120 prompt tokens are cache reads, input is the rest.
    const { evs } = run(toMessages(), payloads(await recording('openai-tool-first.sse')))
    expect(evs.find((e) => e.event === 'message_delta')!.data.usage).toMatchObject({
      input_tokens: 20,
      cache_read_input_tokens: 100,
    })
    // Anthropic → OpenAI: prompt_tokens counts the cache reads and writes beside input_tokens.
    const u = messageToChat(
      {
        id: 'm',
        content: [],
        stop_reason: 'end_turn',
        usage: {
          input_tokens: 3,
          cache_read_input_tokens: 1000,
          cache_creation_input_tokens: 200,
          output_tokens: 5,
        },
      },
      'c',
      1,
    ).usage
    expect(u).toMatchObject({
      prompt_tokens: 1203,
      total_tokens: 1208,
      prompt_tokens_details: { cached_tokens: 1000 },
    })
  })

  test('data: images sent as URLs (Switchyard #470)', () => {
    const body = chatReq({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
    })
    expect(body.messages[0].content).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
    ])
  })
})
