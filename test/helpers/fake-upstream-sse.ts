// The fake upstream's answer plans and streamed answers: SSE event sequences in the order and shape
// OpenAI (chat, completions, responses) and Anthropic (messages) send them, with their usage objects.

import type { FakeSettings } from './fake-upstream'

/** One SSE event: `event:` line when named, `data:` as JSON (strings such as [DONE] sent raw). */
export type SseEvent = { event?: string; data: unknown }

/** How a route answers; the server core applies timing and faults to every kind. */
export type Plan =
  | { kind: 'json'; body: unknown; status?: number }
  | { kind: 'text'; body: string; contentType: string }
  | { kind: 'sse'; events: Iterable<SseEvent> }
  | { kind: 'bytes'; contentType: string; parts: Iterable<Uint8Array> }

export type ReplyContext = {
  index: number
  /** Unique per request, for ids such as chatcmpl-… and msg_… */
  id: string
  body: Record<string, unknown>
  settings: FakeSettings
  /** Unix seconds. */
  created: number
}

export type Route = (ctx: ReplyContext) => Plan

type Body = Record<string, unknown>

const encoder = new TextEncoder()

/** The wire format: `event: NAME\n` when named, then `data: JSON\n\n`. */
function* sseBytes(events: Iterable<SseEvent>): Generator<Uint8Array> {
  for (const e of events) {
    const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data)
    yield encoder.encode(e.event ? `event: ${e.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`)
  }
}

/** Any plan as body writes; a JSON body is written in two halves so it can be cut in between. */
export function planBytes(plan: Plan): { parts: Iterable<Uint8Array>; contentType: string } {
  if (plan.kind === 'sse') return { parts: sseBytes(plan.events), contentType: 'text/event-stream' }
  if (plan.kind === 'bytes') return plan
  if (plan.kind === 'text')
    return { parts: [encoder.encode(plan.body)], contentType: plan.contentType }
  const text = JSON.stringify(plan.body)
  const half = Math.floor(text.length / 2)
  const parts = [encoder.encode(text.slice(0, half)), encoder.encode(text.slice(half))]
  return { parts, contentType: 'application/json' }
}

/** Splits text into n pieces (by code point) that join back to it; some may be empty. */
export function splitText(text: string, n: number): string[] {
  const chars = Array.from(text)
  const count = Math.max(1, Math.floor(n))
  return Array.from({ length: count }, (_, i) =>
    chars
      .slice(Math.floor((i * chars.length) / count), Math.floor(((i + 1) * chars.length) / count))
      .join(''),
  )
}

/** The first offered tool's name, unless the request said tool_choice none. */
export function offeredTool(body: Body): string | undefined {
  const tools = body.tools
  const choice = body.tool_choice as { type?: unknown } | string | undefined
  if (!Array.isArray(tools) || tools.length === 0) return undefined
  if (choice === 'none' || (typeof choice === 'object' && choice?.type === 'none')) return undefined
  const first = tools[0] as { name?: unknown; function?: { name?: unknown } }
  const name = first.function?.name ?? first.name
  return typeof name === 'string' ? name : 'tool'
}

export function modelOf(body: Body, fallback: string): string {
  return typeof body.model === 'string' ? body.model : fallback
}

function wantsUsage(body: Body): boolean {
  return (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
}

export function chatUsage({ settings: s }: ReplyContext) {
  return {
    prompt_tokens: s.promptTokens,
    completion_tokens: s.completionTokens,
    total_tokens: s.promptTokens + s.completionTokens,
    prompt_tokens_details: { cached_tokens: s.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  }
}

export function chatHead(ctx: ReplyContext) {
  const model = modelOf(ctx.body, 'gpt-4o-mini')
  return { id: `chatcmpl-${ctx.id}`, created: ctx.created, model, system_fingerprint: 'fp_fake' }
}

/** Chat chunks; with include_usage every chunk has `usage: null` and a last one has choices []. */
export function* chatEvents(ctx: ReplyContext, tool: string | undefined): Generator<SseEvent> {
  const s = ctx.settings
  const head = { ...chatHead(ctx), object: 'chat.completion.chunk' }
  const includeUsage = wantsUsage(ctx.body)
  const chunk = (delta: unknown, finish: string | null = null) => ({
    data: {
      ...head,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    },
  })
  if (tool) {
    const fn = { name: tool, arguments: '' }
    const call = { index: 0, id: `call_${ctx.id}`, type: 'function', function: fn }
    yield chunk({ role: 'assistant', content: null, tool_calls: [call], refusal: null })
    for (const piece of splitText(s.toolArguments, s.chunks)) {
      yield chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] })
    }
  } else {
    yield chunk({ role: 'assistant', content: '', refusal: null })
    for (const piece of splitText(s.text, s.chunks)) yield chunk({ content: piece })
  }
  yield chunk({}, tool ? 'tool_calls' : 'stop')
  if (includeUsage) yield { data: { ...head, choices: [], usage: chatUsage(ctx) } }
  yield { data: '[DONE]' }
}

export function completionHead(ctx: ReplyContext) {
  const model = modelOf(ctx.body, 'gpt-3.5-turbo-instruct')
  return { id: `cmpl-${ctx.id}`, object: 'text_completion', created: ctx.created, model }
}

export function completionUsage({ settings: s }: ReplyContext) {
  const total = s.promptTokens + s.completionTokens
  return {
    prompt_tokens: s.promptTokens,
    completion_tokens: s.completionTokens,
    total_tokens: total,
  }
}

export function* completionEvents(ctx: ReplyContext): Generator<SseEvent> {
  const head = completionHead(ctx)
  const pieces = splitText(ctx.settings.text, ctx.settings.chunks)
  for (let i = 0; i < pieces.length; i++) {
    const finish = i === pieces.length - 1 ? 'stop' : null
    yield {
      data: {
        ...head,
        choices: [{ text: pieces[i], index: 0, logprobs: null, finish_reason: finish }],
      },
    }
  }
  if (wantsUsage(ctx.body)) yield { data: { ...head, choices: [], usage: completionUsage(ctx) } }
  yield { data: '[DONE]' }
}

const outputText = (text: string) => ({ type: 'output_text', text, annotations: [] })

function responseItem(ctx: ReplyContext, status: string, text?: string) {
  const content = text === undefined ? [] : [outputText(text)]
  return { type: 'message', id: `msg_${ctx.id}`, status, role: 'assistant', content }
}

/** A Responses API object; usage only once completed. */
export function responseObject(ctx: ReplyContext, completed: boolean) {
  const s = ctx.settings
  const usage = {
    input_tokens: s.promptTokens,
    input_tokens_details: { cached_tokens: s.cachedTokens },
    output_tokens: s.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: s.promptTokens + s.completionTokens,
  }
  return {
    id: `resp_${ctx.id}`,
    object: 'response',
    created_at: ctx.created,
    status: completed ? 'completed' : 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: ctx.body.instructions ?? null,
    model: modelOf(ctx.body, 'gpt-4o-mini'),
    output: completed ? [responseItem(ctx, 'completed', s.text)] : [],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: completed ? usage : null,
    metadata: {},
  }
}

/** Responses API events: `event:` names equal each payload's type; usage in response.completed. */
export function* responseEvents(ctx: ReplyContext): Generator<SseEvent> {
  const text = ctx.settings.text
  let seq = 0
  const ev = (type: string, fields: Body): SseEvent => ({
    event: type,
    data: { type, sequence_number: seq++, ...fields },
  })
  const at = { item_id: `msg_${ctx.id}`, output_index: 0, content_index: 0 }
  yield ev('response.created', { response: responseObject(ctx, false) })
  yield ev('response.in_progress', { response: responseObject(ctx, false) })
  yield ev('response.output_item.added', {
    output_index: 0,
    item: responseItem(ctx, 'in_progress'),
  })
  yield ev('response.content_part.added', { ...at, part: outputText('') })
  for (const delta of splitText(text, ctx.settings.chunks)) {
    yield ev('response.output_text.delta', { ...at, delta })
  }
  yield ev('response.output_text.done', { ...at, text })
  yield ev('response.content_part.done', { ...at, part: outputText(text) })
  const item = responseItem(ctx, 'completed', text)
  yield ev('response.output_item.done', { output_index: 0, item })
  yield ev('response.completed', { response: responseObject(ctx, true) })
}

/** Anthropic usage: input_tokens excludes the cache reads and writes counted in promptTokens. */
export function messageUsage({ settings: s }: ReplyContext, outputTokens: number) {
  const input = Math.max(0, s.promptTokens - s.cachedTokens - s.cacheCreationTokens)
  return {
    input_tokens: input,
    cache_creation_input_tokens: s.cacheCreationTokens,
    cache_read_input_tokens: s.cachedTokens,
    output_tokens: outputTokens,
  }
}

export function messageHead(ctx: ReplyContext) {
  const model = modelOf(ctx.body, 'claude-haiku-4-5')
  return { id: `msg_${ctx.id}`, type: 'message', role: 'assistant', model }
}

/**
 * Anthropic's order: message_start (input usage, output_tokens 1), content_block_start, ping,
 * content_block_delta…, content_block_stop, message_delta (cumulative output_tokens), message_stop.
 */
export function* messageEvents(ctx: ReplyContext, tool: string | undefined): Generator<SseEvent> {
  const s = ctx.settings
  const ev = (type: string, fields: Body = {}): SseEvent => ({
    event: type,
    data: { type, ...fields },
  })
  const message = { ...messageHead(ctx), content: [], stop_reason: null, stop_sequence: null }
  yield ev('message_start', { message: { ...message, usage: messageUsage(ctx, 1) } })
  const block = tool
    ? { type: 'tool_use', id: `toolu_${ctx.id}`, name: tool, input: {} }
    : { type: 'text', text: '' }
  yield ev('content_block_start', { index: 0, content_block: block })
  yield ev('ping')
  for (const piece of splitText(tool ? s.toolArguments : s.text, s.chunks)) {
    const delta = tool
      ? { type: 'input_json_delta', partial_json: piece }
      : { type: 'text_delta', text: piece }
    yield ev('content_block_delta', { index: 0, delta })
  }
  yield ev('content_block_stop', { index: 0 })
  const stop = { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null }
  yield ev('message_delta', { delta: stop, usage: { output_tokens: s.completionTokens } })
  yield ev('message_stop')
}
