// An Anthropic Messages stream as an OpenAI chat.completion.chunk stream, one upstream event at a
// time (nothing is buffered beyond the event at hand): text and thinking deltas as content and
// reasoning_content, tool_use blocks as tool_calls with every argument delta, the stop reason as
// the finish chunk, the usage chunk only when the client asked for it, and [DONE] last.
import { isObj, openaiFinish, openaiUsageOf, type Obj, eventObject } from './common'
import { errorBody } from './answers'

const DONE = 'data: [DONE]\n\n'

export type ToChatOptions = {
  model: string
  createdS: number
  /** stream_options.include_usage from the client: then a last chunk with `choices: []`. */
  includeUsage: boolean
}

export class MessagesToChatStream {
  private id = 'chatcmpl-xgate'
  private model: string
  /** Anthropic block index → OpenAI tool_calls index, for tool_use blocks. */
  private readonly tools = new Map<number, number>()
  private usage: Obj = {}
  private finish: string | null = null
  private done = false

  constructor(private readonly o: ToChatOptions) {
    this.model = o.model
  }

  private chunk(delta: Obj, finish: string | null = null): string {
    const c: Obj = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.o.createdS,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    }
    if (this.o.includeUsage) c.usage = null
    return `data: ${JSON.stringify(c)}\n\n`
  }

  /** One upstream `data:` payload; returns the client's bytes for it ('' for none). */
  event(data: string): string {
    if (this.done) return ''
    const e = eventObject(data)
    if (!e) return ''
    switch (e.type) {
      case 'message_start': {
        const m = isObj(e.message) ? e.message : {}
        if (typeof m.id === 'string') this.id = `chatcmpl-${m.id}`
        if (typeof m.model === 'string') this.model = m.model
        this.usage = { ...(m.usage ?? {}) }
        return this.chunk({ role: 'assistant', content: '' })
      }
      case 'content_block_start': {
        const b = isObj(e.content_block) ? e.content_block : {}
        if (b.type !== 'tool_use') return ''
        const n = this.tools.size
        this.tools.set(Number(e.index), n)
        const fn = { name: String(b.name ?? ''), arguments: '' }
        return this.chunk({
          tool_calls: [{ index: n, id: String(b.id ?? ''), type: 'function', function: fn }],
        })
      }
      case 'content_block_delta': {
        const d = isObj(e.delta) ? e.delta : {}
        if (d.type === 'text_delta') return this.chunk({ content: String(d.text ?? '') })
        if (d.type === 'thinking_delta')
          return this.chunk({ reasoning_content: String(d.thinking ?? '') })
        if (d.type === 'input_json_delta') {
          const n = this.tools.get(Number(e.index))
          if (n === undefined) return ''
          return this.chunk({
            tool_calls: [{ index: n, function: { arguments: String(d.partial_json ?? '') } }],
          })
        }
        return ''
      }
      case 'message_delta': {
        // Cumulative figures: later ones replace earlier ones.
        if (isObj(e.usage))
          for (const [k, v] of Object.entries(e.usage)) if (v !== null) this.usage[k] = v
        const reason = isObj(e.delta) ? e.delta.stop_reason : undefined
        if (reason === undefined || reason === null) return ''
        this.finish = openaiFinish(reason)
        return this.chunk({}, this.finish)
      }
      case 'message_stop':
        return this.close()
      case 'ping':
        // A comment line: clients skip it, and the connection shows life during long thoughts.
        return ': ping\n\n'
      case 'error': {
        this.done = true
        return `data: ${JSON.stringify(errorBody(e, 500, 'openai'))}\n\n`
      }
      default:
        return ''
    }
  }

  /** The end of the answer: a finish chunk if none came, the usage chunk when asked, [DONE]. */
  private close(): string {
    this.done = true
    let out = this.finish ? '' : this.chunk({}, 'stop')
    if (this.o.includeUsage) {
      const c = {
        id: this.id,
        object: 'chat.completion.chunk',
        created: this.o.createdS,
        model: this.model,
        choices: [],
        usage: openaiUsageOf(this.usage),
      }
      out += `data: ${JSON.stringify(c)}\n\n`
    }
    return out + DONE
  }

  /**
   * The upstream body ended. After a stop reason the answer was whole (the upstream only left out
   * message_stop): it is closed properly. Without one the answer broke off: no [DONE] is made up.
   */
  end(): string {
    return this.done || this.finish === null ? '' : this.close()
  }
}
