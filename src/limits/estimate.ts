// The token reservation of a call that meets a token limit: prompt tokens by tokenizer plus the
// completion the request asks for, capped. The real total replaces it when the call settles.

/**
 * The completion part of a reservation counts at most this many tokens. `max_tokens` is a
 * ceiling most answers stay far below, and a call naming 128k must not hold a whole TPM window
 * while it runs; the settle step corrects to the real total either way.
 */
export const COMPLETION_RESERVE_CAP = 4_096

/** Prompt tokens of a parsed body (the tokenizer is loaded on first use: ~60 MB of ranks). */
export type PromptCounter = (body: unknown) => number

/** The gpt-tokenizer estimate, required on the first call that needs it, not at start-up. */
export function lazyPromptCounter(): PromptCounter {
  let count: PromptCounter | null = null
  return (body) => {
    count ??= (require('../billing/tokens') as typeof import('../billing/tokens'))
      .estimatePromptTokens
    return count(body)
  }
}

/** `max_tokens` (chat, Anthropic), `max_completion_tokens` (newer chat), `max_output_tokens`. */
export function requestedCompletion(body: Record<string, unknown>): number {
  const v = body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0
}

/** Tokens to reserve for a call; a multipart body (no JSON) reserves nothing up front. */
export function reserveTokens(body: Record<string, unknown> | null, prompt: PromptCounter): number {
  if (!body) return 0
  return prompt(body) + Math.min(requestedCompletion(body), COMPLETION_RESERVE_CAP)
}
