// The hold of one call: its worst-case cost at admission, from the request alone (no tokenizer on
// the hot path). Prompt: the request body's characters, four ASCII characters to a token (the
// usual figure for English text, code and JSON) and one token for each other character (CJK and
// most non-Latin scripts take about one token a character), capped by the model's context window
// when the catalogue knows it. Output: what the request allows (`max_tokens`,
// `max_completion_tokens`, `max_output_tokens`), else the model's most output, else
// HOLD_DEFAULT_OUTPUT_TOKENS. A body with `cache_control` holds its prompt at the 1-hour
// cache-write price (the most a prompt token may cost). Per request, per image × n, at the
// account's Rates.
import { costNano, type ResolvedPrice } from '../billing/pricing'
import { requestedCompletion } from '../limits/estimate'

export type HoldInput = {
  price: ResolvedPrice
  json: Record<string, unknown> | null
  /** The request body's text (null for multipart). */
  text: string | null
  /** Images the call may make (image endpoints), else 0. */
  images: number
  rates: number
  defaultOutputTokens: number
}

/** Prompt tokens of a request body, estimated as above: one pass, no allocation. */
export function promptEstimate(text: string | null): number {
  if (!text) return 0
  let other = 0
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) other++
  return Math.ceil((text.length - other) / 4) + other
}

/** Output tokens a call may produce at most. */
export function outputBound(
  json: Record<string, unknown> | null,
  price: ResolvedPrice,
  fallback: number,
): number {
  const asked = json ? requestedCompletion(json) : 0
  const most = price.maxOutputTokens
  if (asked > 0) return most !== undefined && most > 0 ? Math.min(asked, most) : asked
  return most !== undefined && most > 0 ? most : fallback
}

/** The hold in nano-USD of the account's book units. */
export function holdNano(h: HoldInput): number {
  const p = h.price
  const context = p.contextTokens
  const est = promptEstimate(h.text)
  const prompt = context !== undefined && context > 0 ? Math.min(est, context) : est
  // A prompt that asks for caching may be written to the cache whole, at up to the 1-hour price.
  const writes = h.text !== null && h.text.includes('"cache_control"') ? prompt : 0
  return costNano(
    p,
    {
      promptTokens: prompt,
      completionTokens: outputBound(h.json, p, h.defaultOutputTokens),
      cachedTokens: 0,
      cacheWriteTokens: writes,
      cacheWrite1hTokens: writes,
      images: h.images,
      requests: 1,
    },
    h.rates,
  ).chargedNano
}
