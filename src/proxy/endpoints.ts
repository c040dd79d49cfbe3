// The proxied surfaces (§4): where each path goes, which key type serves it, how its body is read
// and how its usage is metered.
import type { KeyType } from '../keys/repo'

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
  type: KeyType
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
  }),
  ep('/v1/completions', 'completions', 'OpenAI legacy completions', { usageOption: true }),
  ep('/v1/embeddings', 'embeddings', 'OpenAI embeddings'),
  ep('/v1/responses', 'responses', 'OpenAI Responses API'),
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
  ep('/v1/messages', 'messages', 'Anthropic messages (stream or not)', { type: 'anthropic' }),
  ep('/v1/messages/count_tokens', 'count_tokens', 'Anthropic token counting (free)', {
    type: 'anthropic',
    free: true,
  }),
]

export function surfaceOf(e: Endpoint): 'openai' | 'anthropic' {
  return e.type
}
