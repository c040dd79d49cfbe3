// The fake upstream's route table: for each OpenAI and Anthropic endpoint, the JSON, text or binary
// answer, or the SSE stream (from fake-upstream-sse.ts) when the request asks for one.

import {
  chatEvents,
  chatHead,
  chatUsage,
  completionEvents,
  completionHead,
  completionUsage,
  messageEvents,
  messageHead,
  messageUsage,
  modelOf,
  offeredTool,
  responseEvents,
  responseObject,
  type Plan,
  type ReplyContext,
  type Route,
} from './fake-upstream-sse'

function chatCompletions(ctx: ReplyContext): Plan {
  const tool = offeredTool(ctx.body)
  if (ctx.body.stream === true) return { kind: 'sse', events: chatEvents(ctx, tool) }
  const fn = { name: tool, arguments: ctx.settings.toolArguments }
  const message = tool
    ? {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [{ id: `call_${ctx.id}`, type: 'function', function: fn }],
      }
    : { role: 'assistant', content: ctx.settings.text, refusal: null }
  const choice = { index: 0, message, logprobs: null, finish_reason: tool ? 'tool_calls' : 'stop' }
  const body = {
    ...chatHead(ctx),
    object: 'chat.completion',
    choices: [choice],
    usage: chatUsage(ctx),
  }
  return { kind: 'json', body }
}

function completions(ctx: ReplyContext): Plan {
  if (ctx.body.stream === true) return { kind: 'sse', events: completionEvents(ctx) }
  const choice = { text: ctx.settings.text, index: 0, logprobs: null, finish_reason: 'stop' }
  return {
    kind: 'json',
    body: { ...completionHead(ctx), choices: [choice], usage: completionUsage(ctx) },
  }
}

function responses(ctx: ReplyContext): Plan {
  if (ctx.body.stream === true) return { kind: 'sse', events: responseEvents(ctx) }
  return { kind: 'json', body: responseObject(ctx, true) }
}

function messages(ctx: ReplyContext): Plan {
  const tool = offeredTool(ctx.body)
  if (ctx.body.stream === true) return { kind: 'sse', events: messageEvents(ctx, tool) }
  const s = ctx.settings
  const content = tool
    ? [{ type: 'tool_use', id: `toolu_${ctx.id}`, name: tool, input: parseObject(s.toolArguments) }]
    : [{ type: 'text', text: s.text }]
  const stop = { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null }
  const usage = messageUsage(ctx, s.completionTokens)
  return { kind: 'json', body: { ...messageHead(ctx), content, ...stop, usage } }
}

function parseObject(json: string): unknown {
  try {
    return JSON.parse(json)
  } catch {
    return {}
  }
}

function countTokens(ctx: ReplyContext): Plan {
  return { kind: 'json', body: { input_tokens: ctx.settings.promptTokens } }
}

/** Inputs an embeddings or moderations request carries; a token array counts as one. */
function inputCount(input: unknown): number {
  if (!Array.isArray(input)) return 1
  if (input.length > 0 && input.every((x) => typeof x === 'number')) return 1
  return input.length
}

function embeddings(ctx: ReplyContext): Plan {
  const { body, settings: s } = ctx
  const asked = typeof body.dimensions === 'number' ? Math.floor(body.dimensions) : 0
  const dims = asked > 0 ? Math.min(asked, 4096) : s.embeddingDimensions
  const data = Array.from({ length: inputCount(body.input) }, (_, index) => {
    const vector = Array.from({ length: dims }, (_, j) => (((index + 1) * (j + 3)) % 17) / 16 - 0.5)
    // The openai SDK asks for base64 (little-endian float32) unless told otherwise.
    const embedding =
      body.encoding_format === 'base64'
        ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
        : vector
    return { object: 'embedding', index, embedding }
  })
  const usage = { prompt_tokens: s.promptTokens, total_tokens: s.promptTokens }
  const model = modelOf(body, 'text-embedding-3-small')
  return { kind: 'json', body: { object: 'list', data, model, usage } }
}

function moderations(ctx: ReplyContext): Plan {
  const names = ['harassment', 'hate', 'self-harm', 'sexual', 'violence']
  const categories = Object.fromEntries(names.map((n) => [n, false]))
  const category_scores = Object.fromEntries(names.map((n) => [n, 0.0001]))
  const results = Array.from({ length: inputCount(ctx.body.input) }, () => ({
    flagged: false,
    categories,
    category_scores,
  }))
  const model = modelOf(ctx.body, 'omni-moderation-latest')
  return { kind: 'json', body: { id: `modr-${ctx.id}`, model, results } }
}

/** A 1×1 transparent PNG. */
const TINY_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII='

function images(ctx: ReplyContext): Plan {
  const { body, settings: s } = ctx
  const n = typeof body.n === 'number' ? Math.min(10, Math.max(1, Math.floor(body.n))) : 1
  // gpt-image models answer base64 only and report token usage; dall-e bills per image.
  const tokenBilled = modelOf(body, 'dall-e-2').startsWith('gpt-image')
  const b64 = tokenBilled || body.response_format === 'b64_json'
  const data = Array.from({ length: n }, (_, i) =>
    b64 ? { b64_json: TINY_PNG } : { url: `https://images.example.invalid/${ctx.id}-${i}.png` },
  )
  const usage = {
    input_tokens: s.promptTokens,
    output_tokens: s.completionTokens,
    total_tokens: s.promptTokens + s.completionTokens,
    input_tokens_details: { text_tokens: s.promptTokens, image_tokens: 0 },
  }
  return { kind: 'json', body: { created: ctx.created, data, ...(tokenBilled ? { usage } : {}) } }
}

const AUDIO_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
}

/** `audioBytes` deterministic bytes (i mod 251) in `chunks` parts. */
function speech(ctx: ReplyContext): Plan {
  const { audioBytes, chunks } = ctx.settings
  const format = typeof ctx.body.response_format === 'string' ? ctx.body.response_format : 'mp3'
  const all = Uint8Array.from({ length: audioBytes }, (_, i) => i % 251)
  const n = Math.max(1, Math.floor(chunks))
  const parts = Array.from({ length: n }, (_, i) =>
    all.subarray(Math.floor((i * audioBytes) / n), Math.floor(((i + 1) * audioBytes) / n)),
  )
  return { kind: 'bytes', contentType: AUDIO_TYPES[format] ?? 'audio/mpeg', parts }
}

/** The request's byte count is in the x-fake-received-bytes header and in `calls`. */
function transcriptions(ctx: ReplyContext): Plan {
  const { body, settings: s } = ctx
  if (body.response_format === 'text') {
    return { kind: 'text', body: s.text, contentType: 'text/plain; charset=utf-8' }
  }
  if (body.response_format === 'verbose_json') {
    const verbose = {
      task: 'transcribe',
      language: 'english',
      duration: 1.5,
      text: s.text,
      segments: [],
    }
    return { kind: 'json', body: verbose }
  }
  const total = s.promptTokens + s.completionTokens
  const usage = {
    type: 'tokens',
    input_tokens: s.promptTokens,
    output_tokens: s.completionTokens,
    total_tokens: total,
  }
  // whisper-1 reports no usage; the gpt-4o transcribe models report tokens.
  const withUsage = modelOf(body, 'whisper-1').startsWith('gpt-')
  return { kind: 'json', body: { text: s.text, ...(withUsage ? { usage } : {}) } }
}

function models(ctx: ReplyContext): Plan {
  const data = ctx.settings.models.map((id) => ({
    id,
    object: 'model',
    created: 1_700_000_000,
    owned_by: id.startsWith('claude') ? 'anthropic' : 'openai',
  }))
  return { kind: 'json', body: { object: 'list', data } }
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
}

const OPENAI_ERROR_CODES: Record<number, [string, string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['invalid_request_error', 'unsupported_country_region_territory'],
  404: ['invalid_request_error', 'model_not_found'],
  429: ['requests', 'rate_limit_exceeded'],
}

/** An error body in the dialect of the path: Anthropic for /v1/messages…, else OpenAI. */
export function errorResponse(path: string, status: number, message: string, retryAfter?: number) {
  const headers: Record<string, string> = {}
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  if (path.startsWith('/v1/messages')) {
    const type = ANTHROPIC_ERROR_TYPES[status] ?? 'api_error'
    return Response.json({ type: 'error', error: { type, message } }, { status, headers })
  }
  const [type, code] = OPENAI_ERROR_CODES[status] ?? ['server_error', null]
  return Response.json({ error: { message, type, param: null, code } }, { status, headers })
}

/** Keyed by `METHOD /path`. */
export const ROUTES: Record<string, Route> = {
  'POST /v1/chat/completions': chatCompletions,
  'POST /v1/completions': completions,
  'POST /v1/responses': responses,
  'POST /v1/embeddings': embeddings,
  'POST /v1/moderations': moderations,
  'POST /v1/images/generations': images,
  'POST /v1/audio/speech': speech,
  'POST /v1/audio/transcriptions': transcriptions,
  'GET /v1/models': models,
  'POST /v1/messages': messages,
  'POST /v1/messages/count_tokens': countTokens,
}
