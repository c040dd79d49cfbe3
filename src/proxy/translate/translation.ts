// The way back of a translated call: the upstream's JSON answers, errors and stream events in
// the client's dialect (Chat Completions or Responses for OpenAI clients, Messages for
// Anthropic ones). One per call; a fresh stream translator per stream.
import { chatToMessage, errorBody, errorStatus, messageToChat } from './answers'
import { isObj, type Dialect, type Obj } from './common'
import { MessagesToResponsesStream, messageToResponse } from './responses-answer'
import { MessagesToChatStream } from './stream-to-chat'
import { ChatToMessagesStream } from './stream-to-messages'

/** The client's API: OpenAI Chat Completions or Responses (on Messages), or Anthropic Messages. */
export type ClientApi = 'chat' | 'responses' | 'messages'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function parse(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes))
  } catch {
    return null
  }
}

export type StreamTranslator = { event(data: string): string; end(): string }

export class Translation {
  /** x-xgate-dropped-params, when anything was dropped. */
  dropped: string | null = null
  readonly client: Dialect
  private readonly includeUsage: boolean
  private readonly createdS: number

  constructor(
    readonly api: ClientApi,
    private readonly model: string,
    private readonly request: Obj,
    nowMs: number,
  ) {
    this.client = api === 'messages' ? 'anthropic' : 'openai'
    this.createdS = Math.floor(nowMs / 1000)
    this.includeUsage =
      isObj(request.stream_options) && request.stream_options.include_usage === true
  }

  private get head() {
    return { model: this.model, createdS: this.createdS, request: this.request }
  }

  /** A successful JSON answer of the upstream, as the client's. */
  answer(obj: Obj): Obj {
    if (this.api === 'chat') return messageToChat(obj, this.model, this.createdS)
    if (this.api === 'responses') return messageToResponse(obj, this.head)
    return chatToMessage(obj, this.model)
  }

  /** An upstream error (status ≥ 400), its body as far as it was read, in the client's dialect. */
  error(bytes: Uint8Array | undefined, status: number): { status: number; bytes: Uint8Array } {
    const parsed = bytes ? parse(bytes) : null
    const body = errorBody(parsed, status, this.client)
    return { status: errorStatus(status, this.client), bytes: encoder.encode(JSON.stringify(body)) }
  }

  /**
   * A whole JSON answer of the upstream as the client's bytes. `read` sees the upstream's object
   * of a success first (the meter takes its usage in the upstream's dialect).
   */
  body(
    bytes: Uint8Array,
    status: number,
    read: (obj: Obj) => void,
  ): { status: number; bytes: Uint8Array } {
    if (status >= 400) return this.error(bytes, status)
    const obj = parse(bytes)
    if (!isObj(obj)) return this.error(undefined, 502)
    read(obj)
    return { status, bytes: encoder.encode(JSON.stringify(this.answer(obj))) }
  }

  /** A fresh translator for one stream. */
  stream(): StreamTranslator {
    if (this.api === 'responses') return new MessagesToResponsesStream(this.head)
    if (this.api === 'chat')
      return new MessagesToChatStream({
        model: this.model,
        createdS: this.createdS,
        includeUsage: this.includeUsage,
      })
    return new ChatToMessagesStream({ model: this.model })
  }
}
