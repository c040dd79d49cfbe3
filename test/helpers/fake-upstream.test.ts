// Tests for the fake upstream, driven by the official openai and @anthropic-ai/sdk clients pointed
// straight at it: every endpoint, streams with and without usage, faults, disconnects, tallies.

import Anthropic, { APIError as AnthropicAPIError } from '@anthropic-ai/sdk'
import { describe, expect, test } from 'bun:test'
import OpenAI, { type APIError, toFile } from 'openai'
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from './fake-upstream'

/** Starts a fake upstream for one test and always stops it. */
async function withUpstream(
  options: FakeUpstreamOptions,
  fn: (up: FakeUpstream, openai: OpenAI, anthropic: Anthropic) => Promise<void>,
): Promise<void> {
  const up = await startFakeUpstream(options)
  try {
    const openai = new OpenAI({ baseURL: `${up.url}/v1`, apiKey: 'sk-openai-1', maxRetries: 0 })
    const anthropic = new Anthropic({ baseURL: up.url, apiKey: 'sk-ant-1', maxRetries: 0 })
    await fn(up, openai, anthropic)
  } finally {
    await up.stop()
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] }
const usageOpts = { promptTokens: 100, completionTokens: 40, cachedTokens: 30 }

describe('OpenAI chat completions', () => {
  test('non-stream answer carries the configured usage and is tallied per key', async () => {
    await withUpstream({ ...usageOpts, text: 'exact words' }, async (up, openai) => {
      const res = await openai.chat.completions.create(chat)
      expect(res.choices[0]!.message.content).toBe('exact words')
      expect(res.usage).toMatchObject({
        prompt_tokens: 100,
        completion_tokens: 40,
        total_tokens: 140,
      })
      expect(res.usage!.prompt_tokens_details!.cached_tokens).toBe(30)
      expect(up.tally).toMatchObject({ requests: 1, ok: 1, error: 0, inFlight: 0 })
      expect(up.tally.byKey['sk-openai-1']).toMatchObject({ requests: 1, ok: 1 })
      expect(up.calls[0]).toMatchObject({
        method: 'POST',
        path: '/v1/chat/completions',
        key: 'sk-openai-1',
      })
      expect((up.calls[0]!.body as { model: string }).model).toBe('gpt-4o-mini')
      expect(up.calls[0]!.headers.authorization).toBe('Bearer sk-openai-1')
    })
  })

  test('stream without include_usage has no usage anywhere', async () => {
    await withUpstream({ text: 'one two three', chunks: 3 }, async (_up, openai) => {
      const chunks = []
      for await (const c of await openai.chat.completions.create({ ...chat, stream: true }))
        chunks.push(c)
      expect(chunks.every((c) => c.choices.length === 1)).toBe(true)
      expect(chunks.some((c) => 'usage' in c)).toBe(false)
      expect(chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe('one two three')
      expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop')
    })
  })

  test('stream with include_usage ends with a choices-[] usage chunk; others carry usage null', async () => {
    await withUpstream(usageOpts, async (_up, openai) => {
      const stream = await openai.chat.completions.create({
        ...chat,
        stream: true,
        stream_options: { include_usage: true },
      })
      const chunks = []
      for await (const c of stream) chunks.push(c)
      const last = chunks.at(-1)!
      expect(last.choices).toEqual([])
      expect(last.usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 40 })
      expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
    })
  })

  test('offered tools come back as a tool call, streamed or not', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: {} } }]
    await withUpstream({ toolArguments: '{"q":"fox"}' }, async (_up, openai) => {
      const res = await openai.chat.completions.create({ ...chat, tools })
      const call = res.choices[0]!.message.tool_calls![0] as {
        function: { name: string; arguments: string }
      }
      expect(call.function).toEqual({ name: 'lookup', arguments: '{"q":"fox"}' })
      expect(res.choices[0]!.finish_reason).toBe('tool_calls')
      let args = ''
      for await (const c of await openai.chat.completions.create({
        ...chat,
        tools,
        stream: true,
      })) {
        args += c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? ''
      }
      expect(args).toBe('{"q":"fox"}')
      const none = await openai.chat.completions.create({ ...chat, tools, tool_choice: 'none' })
      expect(none.choices[0]!.message.tool_calls).toBeUndefined()
    })
  })

  test('a 10,000-chunk stream arrives whole', async () => {
    await withUpstream({ chunks: 10_000, text: 'x'.repeat(10_000) }, async (up, openai) => {
      const stream = await openai.chat.completions.create({
        ...chat,
        stream: true,
        stream_options: { include_usage: true },
      })
      let deltas = 0
      let text = ''
      for await (const c of stream) {
        if (c.choices[0]?.delta.content) deltas++
        text += c.choices[0]?.delta.content ?? ''
      }
      expect(deltas).toBe(10_000)
      expect(text.length).toBe(10_000)
      expect(up.tally.ok).toBe(1)
    })
  })
})

describe('other OpenAI endpoints', () => {
  test('completions, JSON and stream with usage', async () => {
    await withUpstream({ ...usageOpts, text: 'abc' }, async (_up, openai) => {
      const body = { model: 'gpt-3.5-turbo-instruct', prompt: 'say abc' }
      const res = await openai.completions.create(body)
      expect(res.choices[0]!.text).toBe('abc')
      expect(res.usage!.completion_tokens).toBe(40)
      const chunks = []
      const opts = { ...body, stream: true as const, stream_options: { include_usage: true } }
      for await (const c of await openai.completions.create(opts)) chunks.push(c)
      expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('abc')
      expect(chunks.at(-1)!.usage!.prompt_tokens).toBe(100)
    })
  })

  test('embeddings decode from the base64 the SDK asks for', async () => {
    await withUpstream({ promptTokens: 7 }, async (up, openai) => {
      const res = await openai.embeddings.create({
        model: 'text-embedding-3-small',
        input: ['a', 'b'],
        dimensions: 5,
      })
      expect(res.data.length).toBe(2)
      expect(res.data[1]!.embedding.length).toBe(5)
      expect(res.data[0]!.embedding[0]).toBeCloseTo(((1 * 3) % 17) / 16 - 0.5, 6)
      expect(res.usage.prompt_tokens).toBe(7)
      expect((up.calls[0]!.body as { encoding_format: string }).encoding_format).toBe('base64')
    })
  })

  test('responses, JSON and stream with usage in response.completed', async () => {
    await withUpstream({ ...usageOpts, text: 'resp text', chunks: 2 }, async (_up, openai) => {
      const res = await openai.responses.create({ model: 'gpt-4o-mini', input: 'hi' })
      expect(res.output_text).toBe('resp text')
      expect(res.usage).toMatchObject({ input_tokens: 100, output_tokens: 40 })
      const types: string[] = []
      let completedUsage: unknown
      const stream = await openai.responses.create({
        model: 'gpt-4o-mini',
        input: 'hi',
        stream: true,
      })
      for await (const ev of stream) {
        types.push(ev.type)
        if (ev.type === 'response.completed') completedUsage = ev.response.usage
      }
      expect(types[0]).toBe('response.created')
      expect(types.filter((t) => t === 'response.output_text.delta').length).toBe(2)
      expect(types.at(-1)).toBe('response.completed')
      expect(completedUsage).toMatchObject({ input_tokens: 100, output_tokens: 40 })
    })
  })

  test('moderations, images, models', async () => {
    await withUpstream({ promptTokens: 3, completionTokens: 9 }, async (_up, openai) => {
      const mod = await openai.moderations.create({
        model: 'omni-moderation-latest',
        input: ['a', 'b'],
      })
      expect(mod.results.length).toBe(2)
      expect(mod.results[0]!.flagged).toBe(false)
      const dalle = await openai.images.generate({ model: 'dall-e-3', prompt: 'cat', n: 1 })
      expect(dalle.data![0]!.url).toContain('https://')
      expect(dalle.usage).toBeUndefined()
      const gptImage = await openai.images.generate({ model: 'gpt-image-1', prompt: 'cat', n: 2 })
      expect(gptImage.data!.length).toBe(2)
      expect(gptImage.data![0]!.b64_json).toBeTruthy()
      expect(gptImage.usage!.output_tokens).toBe(9)
      const models = await openai.models.list()
      expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini')
    })
  })

  test('speech returns the configured bytes; transcription reports the bytes received', async () => {
    await withUpstream({ audioBytes: 3000, chunks: 3, text: 'heard' }, async (up, openai) => {
      const speech = await openai.audio.speech.create({
        model: 'tts-1',
        voice: 'alloy',
        input: 'hi',
      })
      expect(speech.headers.get('content-type')).toBe('audio/mpeg')
      const bytes = new Uint8Array(await speech.arrayBuffer())
      expect(bytes.length).toBe(3000)
      expect(bytes[260]).toBe(260 % 251)
      const file = await toFile(new Uint8Array(5000), 'clip.mp3', { type: 'audio/mpeg' })
      const tr = await openai.audio.transcriptions.create({ model: 'whisper-1', file })
      expect(tr.text).toBe('heard')
      const call = up.calls.at(-1)!
      expect(call.bytes).toBeGreaterThan(5000)
      expect(call.body).toMatchObject({
        model: 'whisper-1',
        file: { name: 'clip.mp3', size: 5000 },
      })
    })
  })
})

describe('Anthropic messages', () => {
  const msg = {
    model: 'claude-haiku-4-5',
    max_tokens: 100,
    messages: [{ role: 'user' as const, content: 'hi' }],
  }
  const cacheOpts = { ...usageOpts, cacheCreationTokens: 20 }

  test('non-stream usage splits the prompt into input, cache read and cache creation', async () => {
    await withUpstream({ ...cacheOpts, text: 'bonjour' }, async (up, _openai, anthropic) => {
      const res = await anthropic.messages.create(msg)
      expect(res.content[0]).toMatchObject({ type: 'text', text: 'bonjour' })
      expect(res.usage).toMatchObject({
        input_tokens: 50,
        cache_read_input_tokens: 30,
        cache_creation_input_tokens: 20,
        output_tokens: 40,
      })
      expect(up.tally.byKey['sk-ant-1']!.ok).toBe(1)
      expect(up.calls[0]!.headers['anthropic-version']).toBeTruthy()
    })
  })

  test('stream events come in the real order with cumulative output usage', async () => {
    await withUpstream({ ...cacheOpts, chunks: 3 }, async (_up, _openai, anthropic) => {
      const types: string[] = []
      let inputTokens = -1
      let outputTokens = -1
      for await (const ev of await anthropic.messages.create({ ...msg, stream: true })) {
        types.push(ev.type)
        if (ev.type === 'message_start') inputTokens = ev.message.usage.input_tokens
        if (ev.type === 'message_delta') outputTokens = ev.usage.output_tokens
      }
      expect(types).toEqual([
        'message_start',
        'content_block_start', // the SDK drops the ping that follows; see the raw framing test
        'content_block_delta',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ])
      expect(inputTokens).toBe(50)
      expect(outputTokens).toBe(40)
      const final = await anthropic.messages.stream(msg).finalMessage()
      expect(final.usage.output_tokens).toBe(40)
    })
  })

  test('tools come back as tool_use, streamed or not; count_tokens answers promptTokens', async () => {
    const tools = [{ name: 'lookup', input_schema: { type: 'object' as const } }]
    await withUpstream(
      { toolArguments: '{"q":"fox"}', promptTokens: 77 },
      async (_u, _o, anthropic) => {
        const res = await anthropic.messages.create({ ...msg, tools })
        expect(res.content[0]).toMatchObject({
          type: 'tool_use',
          name: 'lookup',
          input: { q: 'fox' },
        })
        expect(res.stop_reason).toBe('tool_use')
        const streamed = await anthropic.messages.stream({ ...msg, tools }).finalMessage()
        expect(streamed.content[0]).toMatchObject({ type: 'tool_use', input: { q: 'fox' } })
        const count = await anthropic.messages.countTokens({
          model: msg.model,
          messages: msg.messages,
        })
        expect(count.input_tokens).toBe(77)
      },
    )
  })
})

describe('faults', () => {
  test('error statuses surface as the SDKs’ typed errors, with Retry-After', async () => {
    const faults: Record<string, { status: number; retryAfter?: number }> = {
      'k-500': { status: 500 },
      'k-429': { status: 429, retryAfter: 7 },
      'k-401': { status: 401 },
      'k-529': { status: 529 },
    }
    await withUpstream({ behavior: (r) => faults[r.key] }, async (up) => {
      const oa = (key: string) =>
        new OpenAI({ baseURL: `${up.url}/v1`, apiKey: key, maxRetries: 0 })
      const e500 = await caught(oa('k-500').chat.completions.create(chat))
      expect(e500).toBeInstanceOf(OpenAI.InternalServerError)
      const e429 = (await caught(oa('k-429').chat.completions.create(chat))) as APIError
      expect(e429).toBeInstanceOf(OpenAI.RateLimitError)
      expect(e429.headers?.get('retry-after')).toBe('7')
      expect(await caught(oa('k-401').models.list())).toBeInstanceOf(OpenAI.AuthenticationError)
      const an = new Anthropic({ baseURL: up.url, apiKey: 'k-529', maxRetries: 0 })
      const msg = {
        model: 'claude-haiku-4-5',
        max_tokens: 5,
        messages: [{ role: 'user' as const, content: 'x' }],
      }
      const e529 = (await caught(an.messages.create(msg))) as AnthropicAPIError
      expect(e529.status).toBe(529)
      expect((e529.error as { error: { type: string } }).error.type).toBe('overloaded_error')
      expect(up.tally).toMatchObject({ requests: 4, error: 4, ok: 0 })
      expect(up.tally.byKey['k-429']!.error).toBe(1)
    })
  })

  test('the behaviour function sees index, path and key', async () => {
    const seen: string[] = []
    const behavior = (r: { index: number; path: string; key: string }) => {
      seen.push(`${r.index} ${r.path} ${r.key}`)
      return r.index === 0 ? { status: 503 } : undefined
    }
    await withUpstream({ behavior }, async (up, openai) => {
      expect(await caught(openai.chat.completions.create(chat))).toBeInstanceOf(OpenAI.APIError)
      await openai.chat.completions.create(chat)
      expect(seen).toEqual([
        '0 /v1/chat/completions sk-openai-1',
        '1 /v1/chat/completions sk-openai-1',
      ])
      expect(up.tally).toMatchObject({ ok: 1, error: 1 })
    })
  })

  test('disconnect mid-stream fails the SDK after the chunks already sent', async () => {
    await withUpstream(
      { chunks: 10, behavior: () => ({ disconnectAfterChunks: 3 }) },
      async (up, openai) => {
        const got: string[] = []
        const err = await caught(
          (async () => {
            const stream = await openai.chat.completions.create({ ...chat, stream: true })
            for await (const c of stream) got.push(c.choices[0]?.delta.content ?? '')
          })(),
        )
        expect(err).toBeInstanceOf(Error)
        expect(got.length).toBe(3)
        expect(up.tally).toMatchObject({ disconnected: 1, ok: 0, inFlight: 0 })
      },
    )
  })

  test('disconnect after 0 chunks is a connection error before any status', async () => {
    await withUpstream({ disconnectAfterChunks: 0 }, async (up, openai) => {
      const err = await caught(openai.chat.completions.create(chat))
      expect(err).toBeInstanceOf(OpenAI.APIConnectionError)
      expect(up.tally.disconnected).toBe(1)
    })
  })

  test('a hung request is counted as aborted once the client gives up', async () => {
    await withUpstream({ behavior: () => ({ hang: true }) }, async (up, openai) => {
      const err = await caught(openai.chat.completions.create(chat, { timeout: 150 }))
      expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError)
      for (let i = 0; i < 100 && up.tally.aborted === 0; i++) await Bun.sleep(10)
      expect(up.tally).toMatchObject({ requests: 1, aborted: 1, inFlight: 0 })
    })
  })

  test('latency before the first byte trips a client timeout', async () => {
    await withUpstream({ latencyMs: 5_000 }, async (_up, openai) => {
      const err = await caught(openai.chat.completions.create(chat, { timeout: 100 }))
      expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError)
    })
  })

  test('a client leaving mid-stream is tallied as aborted', async () => {
    await withUpstream({ chunks: 200, chunkDelayMs: 5 }, async (up, openai) => {
      const stream = await openai.chat.completions.create({ ...chat, stream: true })
      let n = 0
      for await (const _ of stream) if (++n === 3) break
      for (let i = 0; i < 100 && up.tally.aborted === 0; i++) await Bun.sleep(10)
      expect(up.tally).toMatchObject({ aborted: 1, ok: 0 })
    })
  })
})

describe('wire format and control', () => {
  test('raw SSE framing: data lines and [DONE] for OpenAI, event lines for Anthropic', async () => {
    await withUpstream({ chunks: 1, text: 'hi' }, async (up) => {
      const post = (path: string, body: unknown) =>
        fetch(`${up.url}${path}`, { method: 'POST', body: JSON.stringify(body) }).then((r) =>
          r.text(),
        )
      const oa = await post('/v1/chat/completions', { ...chat, stream: true })
      expect(oa.startsWith('data: {')).toBe(true)
      expect(oa.endsWith('data: [DONE]\n\n')).toBe(true)
      const an = await post('/v1/messages', {
        model: 'claude-sonnet-4-5',
        stream: true,
        messages: [],
      })
      expect(an.startsWith('event: message_start\ndata: {"type":"message_start"')).toBe(true)
      expect(an).toContain('event: ping\ndata: {"type":"ping"}\n\n')
      expect(an.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true)
    })
  })

  test('unknown paths are 404 and bad JSON is 400, in the path’s dialect', async () => {
    await withUpstream({}, async (up) => {
      const nope = await fetch(`${up.url}/v1/nope`, { method: 'POST', body: '{}' })
      expect(nope.status).toBe(404)
      expect(((await nope.json()) as { error: { message: string } }).error.message).toContain(
        'no route',
      )
      const bad = await fetch(`${up.url}/v1/messages`, { method: 'POST', body: '{oops' })
      expect(bad.status).toBe(400)
      expect(await bad.json()).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error' },
      })
    })
  })

  test('setBehavior merges settings or swaps the function; reset clears calls and tally', async () => {
    await withUpstream({}, async (up, openai) => {
      up.setBehavior({ promptTokens: 99 })
      expect((await openai.chat.completions.create(chat)).usage!.prompt_tokens).toBe(99)
      up.setBehavior(() => ({ status: 500 }))
      expect(await caught(openai.chat.completions.create(chat))).toBeInstanceOf(OpenAI.APIError)
      up.setBehavior(undefined)
      up.reset()
      expect(up.calls.length).toBe(0)
      expect(up.tally).toMatchObject({ requests: 0, ok: 0, error: 0 })
      await openai.chat.completions.create(chat)
      expect(up.tally).toMatchObject({ requests: 1, ok: 1 })
      expect(up.calls.length).toBe(1)
    })
  })
})
