// Where one call goes and in which dialect: the (mapped) model's provider decides the upstream
// keys; when it differs from the client's surface on a path that has an equivalent (Chat
// Completions ⇄ Messages, Responses → Messages, count_tokens), the request is translated here
// once and the answer, stream and errors on the way back by a Translation. Native calls cost one
// provider lookup.
import { AppError } from '../../shared/errors'
import type { KeyType } from '../../keys/repo'
import type { Endpoint } from '../endpoints'
import { chatToMessages } from './chat-request'
import type { Obj } from './common'
import { messagesToChat } from './messages-request'
import { responsesToMessages } from './responses-request'
import { Translation } from './translation'

export { Translation, type StreamTranslator } from './translation'

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
  const kind = ep.kind === 'responses' ? 'responses' : surface === 'openai' ? 'chat' : 'messages'
  const t = new Translation(kind, r.mappedModel, r.json, r.nowMs)
  if (ep.peer === 'gateway') {
    const n = r.promptTokens(r.json)
    const local = new TextEncoder().encode(JSON.stringify({ input_tokens: n }))
    return { provider, path: ep.path, body: null, local, translation: t }
  }
  const path = ep.peer
  const opts = {
    model: r.mappedModel,
    defaultMaxTokens: Math.min(r.maxOutputTokens ?? DEFAULT_MAX_TOKENS, DEFAULT_MAX_TOKENS),
  }
  const out =
    kind === 'chat'
      ? chatToMessages(r.json, opts)
      : kind === 'responses'
        ? responsesToMessages(r.json, opts)
        : messagesToChat(r.json, opts)
  t.dropped = out.dropped.header()
  return { provider, path, body: JSON.stringify(out.body), local: null, translation: t }
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

/** A request that cannot be translated, as the value forward() returns for it. */
export function routeFailure(e: unknown): AppError {
  if (e instanceof AppError) return e
  return new AppError('bad_request', `the request could not be translated: ${(e as Error).message}`)
}
