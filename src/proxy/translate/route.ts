// Where one call goes and in which dialect: the (mapped) model's provider decides the upstream
// keys; when it differs from the client's surface on a path that has an equivalent (Chat
// Completions ⇄ Messages, count_tokens), the request is translated here once and the answer,
// stream and errors on the way back by a Translation. Native calls get no route work at all.
import { AppError } from '../../shared/errors'
import type { KeyType } from '../../keys/repo'
import type { Endpoint } from '../endpoints'
import { chatToMessage, errorBody, errorStatus, messageToChat } from './answers'
import { chatToMessages } from './chat-request'
import { isObj, type Dialect, type Obj } from './common'
import { messagesToChat } from './messages-request'
import { MessagesToChatStream } from './stream-to-chat'
import { ChatToMessagesStream } from './stream-to-messages'

export type ProviderOf = (model: string) => KeyType

/** The catalogue's provider of a model: Claude models speak Anthropic, the rest OpenAI. */
export const catalogueProvider: ProviderOf = (model) =>
  model.startsWith('claude') ? 'anthropic' : 'openai'

/** The header naming the request parameters the target had no equivalent for. */
export const DROPPED_HEADER = 'x-xgate-dropped-params'

/** max_tokens for a Chat request that names none (Messages requires one). */
const DEFAULT_MAX_TOKENS = 4096

export type RouteInput = {
  endpoint: Endpoint
  json: Obj | null
  mappedModel: string
  providerOf: ProviderOf
  /** The model's largest answer (catalogue), to default max_tokens. */
  maxOutputTokens?: number
  nowMs: number
  /** Prompt tokens of a body, for count_tokens on a model without that endpoint. */
  promptTokens: (body: unknown) => number
}

/** A translated call: where it goes, what is sent, and how the answer comes back. */
export type Route = {
  provider: KeyType
  path: string
  /** The translated request; null when the gateway answers itself (`local`). */
  body: string | null
  local: Uint8Array | null
  translation: Translation
}

/** Null for a native call: it goes to keys of its surface, as it came. */
export function routeOf(r: RouteInput): Route | null {
  const ep = r.endpoint
  const surface = ep.surface
  if (!r.json || !ep.peer) return null
  const provider = r.providerOf(r.mappedModel)
  if (provider === surface) return null
  const t = new Translation(surface, provider, r.mappedModel, r.json, r.nowMs)
  if (ep.peer === 'gateway') {
    const n = r.promptTokens(r.json)
    const local = new TextEncoder().encode(JSON.stringify({ input_tokens: n }))
    return { provider, path: ep.path, body: null, local, translation: t }
  }
  const path = ep.peer
  const out =
    surface === 'openai'
      ? chatToMessages(r.json, {
          model: r.mappedModel,
          defaultMaxTokens: Math.min(r.maxOutputTokens ?? DEFAULT_MAX_TOKENS, DEFAULT_MAX_TOKENS),
        })
      : messagesToChat(r.json, { model: r.mappedModel })
  t.dropped = out.dropped.header()
  return { provider, path, body: JSON.stringify(out.body), local: null, translation: t }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function parse(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes))
  } catch {
    return null
  }
}

/** The facts of an admitted call that decide its route. */
export type CallFacts = {
  endpoint: Endpoint
  body: { json: Obj | null }
  mappedModel: string
  price?: { maxOutputTokens?: number }
  startedAtMs: number
}

/** A call's route, with the catalogue's providers unless `providerOf` is given. */
export function callRoute(
  f: CallFacts,
  providerOf: ProviderOf | undefined,
  tokenizer: { prompt(body: unknown): number },
): Route | null {
  return routeOf({
    endpoint: f.endpoint,
    json: f.body.json,
    mappedModel: f.mappedModel,
    providerOf: providerOf ?? catalogueProvider,
    maxOutputTokens: f.price?.maxOutputTokens,
    nowMs: f.startedAtMs,
    promptTokens: (body) => tokenizer.prompt(body),
  })
}

export type StreamTranslator = { event(data: string): string; end(): string }

export class Translation {
  /** x-xgate-dropped-params, when anything was dropped. */
  dropped: string | null = null
  private readonly includeUsage: boolean

  constructor(
    readonly client: Dialect,
    readonly upstream: Dialect,
    private readonly model: string,
    request: Obj,
    private readonly nowMs: number,
  ) {
    this.includeUsage =
      isObj(request.stream_options) && request.stream_options.include_usage === true
  }

  /** A successful JSON answer of the upstream, as the client's. */
  answer(obj: Obj): Obj {
    return this.client === 'openai'
      ? messageToChat(obj, this.model, Math.floor(this.nowMs / 1000))
      : chatToMessage(obj, this.model)
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
    return this.client === 'openai'
      ? new MessagesToChatStream({
          model: this.model,
          createdS: Math.floor(this.nowMs / 1000),
          includeUsage: this.includeUsage,
        })
      : new ChatToMessagesStream({ model: this.model })
  }
}

/** A request that cannot be translated, as the value forward() returns for it. */
export function routeFailure(e: unknown): AppError {
  if (e instanceof AppError) return e
  return new AppError('bad_request', `the request could not be translated: ${(e as Error).message}`)
}
