// An OpenAI chat.completion.chunk stream as an Anthropic Messages stream, one upstream chunk at a
// time: message_start always first (whatever the first chunk holds), content blocks with
// consecutive indexes (thinking, text, one per tool call), every argument delta as an
// input_json_delta, then message_delta with the stop reason and usage and message_stop last —
// also when the upstream gave a finish reason but no usage chunk.
import { anthropicStop, anthropicUsageOf, isObj, type Obj } from './common'
import { errorBody } from './answers'

type Block = { index: number; kind: 'text' | 'thinking' | 'tool' }

export type ToMessagesOptions = { model: string }

const sse = (type: string, body: Obj) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`

export class ChatToMessagesStream {
  private started = false
  private finished = false
  private next = 0
  private open: Block | null = null
  /** OpenAI tool_calls index → its block's index. */
  private readonly tools = new Map<number, number>()
  private stop: string | null = null
  private usage: Obj | null = null

  constructor(private readonly o: ToMessagesOptions) {}

  private start(c: Obj): string {
    this.started = true
    const id = `msg_${String(c.id ?? 'xgate').replace(/^chatcmpl-/, '')}`
    const message = {
      id,
      type: 'message',
      role: 'assistant',
      model: typeof c.model === 'string' ? c.model : this.o.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // The prompt's figures arrive with the last chunk; message_delta carries them.
      usage: { input_tokens: 0, output_tokens: 0 },
    }
    return sse('message_start', { message })
  }

  private closeOpen(): string {
    if (!this.open) return ''
    const index = this.open.index
    this.open = null
    return sse('content_block_stop', { index })
  }

  private begin(kind: Block['kind'], block: Obj): string {
    const out = this.closeOpen()
    this.open = { index: this.next++, kind }
    return out + sse('content_block_start', { index: this.open.index, content_block: block })
  }

  private text(kind: 'text' | 'thinking', piece: string): string {
    let out = ''
    if (this.open?.kind !== kind)
      out += this.begin(
        kind,
        kind === 'text'
          ? { type: 'text', text: '' }
          : { type: 'thinking', thinking: '', signature: '' },
      )
    const delta =
      kind === 'text'
        ? { type: 'text_delta', text: piece }
        : { type: 'thinking_delta', thinking: piece }
    return out + sse('content_block_delta', { index: this.open!.index, delta })
  }

  private tool(tc: Obj): string {
    const n = Number.isInteger(tc.index) ? tc.index : this.tools.size
    let out = ''
    let index = this.tools.get(n)
    if (index === undefined) {
      const fn = isObj(tc.function) ? tc.function : {}
      out += this.begin('tool', {
        type: 'tool_use',
        id: String(tc.id ?? `call_${n}`),
        name: String(fn.name ?? ''),
        input: {},
      })
      index = this.open!.index
      this.tools.set(n, index)
    }
    const args = tc.function?.arguments
    // A delta for a tool block already closed (calls interleaved upstream) still goes out under
    // its own index: an argument is never dropped.
    if (typeof args === 'string' && args !== '')
      out += sse('content_block_delta', {
        index,
        delta: { type: 'input_json_delta', partial_json: args },
      })
    return out
  }

  private finish(): string {
    this.finished = true
    const usage = anthropicUsageOf(this.usage)
    const delta = { stop_reason: this.stop ?? 'end_turn', stop_sequence: null }
    return this.closeOpen() + sse('message_delta', { delta, usage }) + sse('message_stop', {})
  }

  /** One upstream `data:` payload; returns the client's bytes for it ('' for none). */
  event(data: string): string {
    if (this.finished) return ''
    if (data === '[DONE]') return this.started ? this.finish() : ''
    let c: Obj
    try {
      c = JSON.parse(data)
    } catch {
      return ''
    }
    if (!isObj(c)) return ''
    if (isObj(c.error)) {
      this.finished = true
      return sse('error', { error: errorBody(c, 500, 'anthropic').error })
    }
    let out = this.started ? '' : this.start(c)
    if (isObj(c.usage)) this.usage = c.usage
    const choice = Array.isArray(c.choices) && isObj(c.choices[0]) ? c.choices[0] : null
    const d: Obj = choice && isObj(choice.delta) ? choice.delta : {}
    const reasoning = d.reasoning_content ?? d.reasoning
    if (typeof reasoning === 'string' && reasoning) out += this.text('thinking', reasoning)
    if (typeof d.content === 'string' && d.content) out += this.text('text', d.content)
    // A refusal is what the model said instead of an answer: the client reads it as text.
    if (typeof d.refusal === 'string' && d.refusal) out += this.text('text', d.refusal)
    if (Array.isArray(d.tool_calls))
      for (const tc of d.tool_calls) if (isObj(tc)) out += this.tool(tc)
    if (choice && typeof choice.finish_reason === 'string') {
      // A turn with tool calls is tool_use, whatever finish reason the upstream chose.
      this.stop = this.tools.size ? 'tool_use' : anthropicStop(choice.finish_reason)
      out += this.closeOpen()
    }
    // Usage after (or with) the finish reason is the last thing an OpenAI stream sends.
    if (this.stop && this.usage) out += this.finish()
    return out
  }

  /**
   * The upstream body ended. After a finish reason the answer was whole (only [DONE] or the usage
   * chunk was left out): it is closed properly. Before one, it broke off: the client gets an
   * error event rather than an answer that looks complete.
   */
  end(): string {
    if (this.finished || !this.started) return ''
    if (this.stop) return this.finish()
    this.finished = true
    const error = {
      type: 'api_error',
      message: 'the upstream stream ended before the answer was complete',
    }
    return this.closeOpen() + sse('error', { error })
  }
}
