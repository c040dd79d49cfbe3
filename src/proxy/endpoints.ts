// The proxied surfaces (§4): each path's client dialect (its surface), its equivalent in the
// other dialect when it has one (then a call on a model of the other provider is translated), how
// its body is read and how its usage is metered. The upstream's dialect is the model's provider.
import type { KeyType } from '../keys/repo'

/** The dialect a client speaks on a path (and that an upstream speaks: a key's type). */
export type Surface = KeyType

export type Kind =
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'responses'
  | 'moderations'
  | 'images'
  | 'speech'
  | 'transcriptions'
  | 'messages'
  | 'count_tokens'

export type Endpoint = {
  path: string
  kind: Kind
  /** The client's dialect on this path. */
  surface: Surface
  /** The same as `surface`; read by routes.ts and server.ts until they read `surface`. */
  type: Surface
  /**
   * The path of the same operation in the other dialect (Chat Completions ⇄ Messages), or
   * 'gateway' when xgate answers it itself for the other provider's models (count_tokens).
   * Absent: the path has no translation and always goes to keys of its surface.
   */
  peer?: string
  /** multipart/form-data bodies are streamed through; others are JSON parsed once. */
  multipart: boolean
  /** Chat and completions: stream_options.include_usage is added upstream when absent. */
  usageOption: boolean
  /** Model the provider assumes when the body names none. */
  defaultModel?: string
  /** No price needed and nothing charged (count_tokens is free at the provider). */
  free: boolean
  summary: string
}

const ep = (
  path: string,
  kind: Kind,
  summary: string,
  extra: Partial<Endpoint> = {},
): Endpoint => ({
  path,
  kind,
  surface: extra.type ?? 'openai',
  type: 'openai',
  multipart: false,
  usageOption: false,
  free: false,
  summary,
  ...extra,
})

export const ENDPOINTS: readonly Endpoint[] = [
  ep('/v1/chat/completions', 'chat', 'OpenAI chat completions (stream or not)', {
    usageOption: true,
    peer: '/v1/messages',
  }),
  ep('/v1/completions', 'completions', 'OpenAI legacy completions', { usageOption: true }),
  ep('/v1/embeddings', 'embeddings', 'OpenAI embeddings'),
  ep('/v1/responses', 'responses', 'OpenAI Responses API', { peer: '/v1/messages' }),
  ep('/v1/moderations', 'moderations', 'OpenAI moderations', {
    defaultModel: 'omni-moderation-latest',
  }),
  ep('/v1/images/generations', 'images', 'OpenAI image generation', { defaultModel: 'dall-e-2' }),
  ep('/v1/audio/speech', 'speech', 'OpenAI text to speech (audio streamed back)'),
  ep(
    '/v1/audio/transcriptions',
    'transcriptions',
    'OpenAI transcription (multipart, streamed through)',
    { multipart: true },
  ),
  ep('/v1/messages', 'messages', 'Anthropic messages (stream or not)', {
    type: 'anthropic',
    peer: '/v1/chat/completions',
  }),
  ep('/v1/messages/count_tokens', 'count_tokens', 'Anthropic token counting (free)', {
    type: 'anthropic',
    peer: 'gateway',
    free: true,
  }),
]

export function surfaceOf(e: Endpoint): Surface {
  return e.surface
}
