// Anthropic answers as OpenAI Responses answers: a message as a `response` object (text as a
// message item, tool_use as function_call items, thinking as a reasoning item), and a Messages
// stream as Responses events, one upstream event at a time. The final response.completed event
// carries the whole output, as OpenAI's does: that much of the answer is kept until the end.
import { isObj, openaiUsageOf, type Obj, eventObject } from './common'
import { errorBody } from './answers'

export type ResponseHead = { model: string; createdS: number; request: Obj }

/** Responses usage: input includes the cached share (like Chat's prompt_tokens). */
export function responsesUsage(u: Obj | null | undefined): Obj {
  const c = openaiUsageOf(u)
  return {
    input_tokens: c.prompt_tokens,
    input_tokens_details: { cached_tokens: c.prompt_tokens_details.cached_tokens },
    output_tokens: c.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: c.total_tokens,
  }
}

const outputText = (text: string) => ({ type: 'output_text', text, annotations: [] })

/** The response object around `output`. */
function responseOf(
  h: ResponseHead,
  id: string,
  status: string,
  output: Obj[],
  extra: Obj = {},
): Obj {
  const r = h.request
  return {
    id: `resp_${id}`,
    object: 'response',
    created_at: h.createdS,
    status,
    error: null,
    incomplete_details: null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    model: h.model,
    output,
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: null,
    temperature: r.temperature ?? null,
    tool_choice: r.tool_choice ?? 'auto',
    tools: Array.isArray(r.tools) ? r.tools : [],
    top_p: r.top_p ?? null,
    usage: null,
    metadata: {},
    ...extra,
  }
}

/** The end state of a response from a stop reason: max_tokens is `incomplete`. */
function ending(stop: unknown): Obj {
  return stop === 'max_tokens'
    ? { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
    : { status: 'completed' }
}

/** One Anthropic content block as a Responses output item (null for blocks with none). */
function itemOf(b: Obj, n: number, msgId: string): Obj | null {
  if (b.type === 'text')
    return {
      type: 'message',
      id: `msg_${msgId}_${n}`,
      status: 'completed',
      role: 'assistant',
      content: [outputText(String(b.text ?? ''))],
    }
  if (b.type === 'tool_use')
    return {
      type: 'function_call',
      id: `fc_${String(b.id)}`,
      call_id: String(b.id),
      name: String(b.name ?? ''),
      arguments: JSON.stringify(b.input ?? {}),
      status: 'completed',
    }
  if (b.type === 'thinking')
    return {
      type: 'reasoning',
      id: `rs_${msgId}_${n}`,
      summary: [{ type: 'summary_text', text: String(b.thinking ?? '') }],
    }
  return null
}

export function messageToResponse(msg: Obj, h: ResponseHead): Obj {
  const id = String(msg.id ?? 'xgate').replace(/^msg_/, '')
  const output: Obj[] = []
  const blocks = Array.isArray(msg.content) ? msg.content : []
  blocks.forEach((b: unknown, n: number) => {
    const item = isObj(b) ? itemOf(b, n, id) : null
    if (item) output.push(item)
  })
  return responseOf(
    { ...h, model: typeof msg.model === 'string' ? msg.model : h.model },
    id,
    'completed',
    output,
    {
      ...ending(msg.stop_reason),
      usage: responsesUsage(msg.usage),
    },
  )
}

type Open = { item: Obj; index: number; text: string }

/** A Messages stream as a Responses stream. */
export class MessagesToResponsesStream {
  private seq = 0
  private id = 'xgate'
  private readonly output: Obj[] = []
  /** Anthropic block index → its open output item. */
  private readonly open = new Map<number, Open>()
  private usage: Obj = {}
  private stop: unknown = null
  private done = false

  constructor(private readonly h: ResponseHead) {}

  private ev(type: string, body: Obj): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...body })}\n\n`
  }

  private start(e: Obj): string {
    const b = isObj(e.content_block) ? e.content_block : {}
    const index = this.output.length
    const item = itemOf(b, Number(e.index), this.id)
    if (!item) return ''
    if (item.type === 'message') item.content = []
    if (item.type === 'function_call') item.arguments = ''
    if (item.type === 'reasoning') item.summary = []
    const open: Open = { item: { ...item, status: 'in_progress' }, index, text: '' }
    this.output.push(open.item)
    this.open.set(Number(e.index), open)
    const at = { item_id: item.id, output_index: index }
    let out = this.ev('response.output_item.added', { output_index: index, item: open.item })
    if (item.type === 'message')
      out += this.ev('response.content_part.added', {
        ...at,
        content_index: 0,
        part: outputText(''),
      })
    if (item.type === 'reasoning')
      out += this.ev('response.reasoning_summary_part.added', {
        ...at,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      })
    return out
  }

  private delta(e: Obj): string {
    const o = this.open.get(Number(e.index))
    const d = isObj(e.delta) ? e.delta : {}
    if (!o) return ''
    const at = { item_id: o.item.id, output_index: o.index }
    if (d.type === 'text_delta' && o.item.type === 'message') {
      o.text += String(d.text ?? '')
      return this.ev('response.output_text.delta', {
        ...at,
        content_index: 0,
        delta: String(d.text ?? ''),
        logprobs: [],
      })
    }
    if (d.type === 'input_json_delta' && o.item.type === 'function_call') {
      o.text += String(d.partial_json ?? '')
      return this.ev('response.function_call_arguments.delta', {
        ...at,
        delta: String(d.partial_json ?? ''),
      })
    }
    if (d.type === 'thinking_delta' && o.item.type === 'reasoning') {
      o.text += String(d.thinking ?? '')
      return this.ev('response.reasoning_summary_text.delta', {
        ...at,
        summary_index: 0,
        delta: String(d.thinking ?? ''),
      })
    }
    return ''
  }

  private finish(index: number): string {
    const o = this.open.get(index)
    if (!o) return ''
    this.open.delete(index)
    const item = o.item
    const at = { item_id: item.id, output_index: o.index }
    let out = ''
    if (item.type === 'message') {
      const part = outputText(o.text)
      item.content = [part]
      out += this.ev('response.output_text.done', {
        ...at,
        content_index: 0,
        text: o.text,
        logprobs: [],
      })
      out += this.ev('response.content_part.done', { ...at, content_index: 0, part })
    } else if (item.type === 'function_call') {
      item.arguments = o.text
      out += this.ev('response.function_call_arguments.done', { ...at, arguments: o.text })
    } else {
      const part = { type: 'summary_text', text: o.text }
      item.summary = [part]
      out += this.ev('response.reasoning_summary_text.done', {
        ...at,
        summary_index: 0,
        text: o.text,
      })
      out += this.ev('response.reasoning_summary_part.done', { ...at, summary_index: 0, part })
    }
    if (item.type !== 'reasoning') item.status = 'completed'
    return out + this.ev('response.output_item.done', { output_index: o.index, item })
  }

  private complete(): string {
    this.done = true
    let out = ''
    for (const index of [...this.open.keys()]) out += this.finish(index)
    const end = ending(this.stop)
    const response = responseOf(this.h, this.id, end.status, this.output, {
      ...end,
      usage: responsesUsage(this.usage),
    })
    const type = end.status === 'incomplete' ? 'response.incomplete' : 'response.completed'
    return out + this.ev(type, { response })
  }

  /** One upstream `data:` payload; returns the client's bytes for it ('' for none). */
  event(data: string): string {
    if (this.done) return ''
    const e = eventObject(data)
    if (!e) return ''
    switch (e.type) {
      case 'message_start': {
        const m = isObj(e.message) ? e.message : {}
        if (typeof m.id === 'string') this.id = m.id.replace(/^msg_/, '')
        this.usage = { ...(m.usage ?? {}) }
        const response = responseOf(this.h, this.id, 'in_progress', [])
        return (
          this.ev('response.created', { response }) + this.ev('response.in_progress', { response })
        )
      }
      case 'content_block_start':
        return this.start(e)
      case 'content_block_delta':
        return this.delta(e)
      case 'content_block_stop':
        return this.finish(Number(e.index))
      case 'message_delta':
        if (isObj(e.usage))
          for (const [k, v] of Object.entries(e.usage)) if (v !== null) this.usage[k] = v
        if (isObj(e.delta) && e.delta.stop_reason) this.stop = e.delta.stop_reason
        return ''
      case 'message_stop':
        return this.complete()
      case 'ping':
        return ': ping\n\n'
      case 'error': {
        this.done = true
        const err = errorBody(e, 500, 'openai').error
        return this.ev('error', { code: err.type, message: err.message, param: null })
      }
      default:
        return ''
    }
  }

  /** After a stop reason the answer was whole: it completes; before one it broke off: nothing. */
  end(): string {
    return this.done || !this.stop ? '' : this.complete()
  }
}
