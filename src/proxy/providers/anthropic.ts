// The Anthropic dialect: usage from message_start (input, cache) and message_delta (cumulative
// output), or from a whole message; generated text for estimates when a stream is cut short.
import type { Usage } from '../../billing/pricing'
import type { Meter } from '../meter'

type Obj = Record<string, any>

const num = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0

/**
 * Prompt = fresh input + cache writes + cache reads; cached = cache reads; cache writes =
 * `cache_creation_input_tokens`, with the 1-hour share from `cache_creation` when sent.
 */
export function anthropicUsage(u: Obj | null | undefined): Usage | null {
  if (!u || typeof u !== 'object' || u.input_tokens === undefined) return null
  const cached = num(u.cache_read_input_tokens)
  let writes = num(u.cache_creation_input_tokens)
  let writes1h = 0
  const split = u.cache_creation
  if (split && typeof split === 'object') {
    writes1h = num(split.ephemeral_1h_input_tokens)
    // The total is the sum of the split; a total that says less is raised to it.
    const both = num(split.ephemeral_5m_input_tokens) + writes1h
    if (both > writes) writes = both
  }
  return {
    promptTokens: num(u.input_tokens) + writes + cached,
    completionTokens: num(u.output_tokens),
    cachedTokens: cached,
    cacheWriteTokens: writes,
    cacheWrite1hTokens: writes1h,
  }
}

export function anthropicEvent(data: string, meter: Meter): boolean {
  if (data.charCodeAt(0) !== 123) return false
  let obj: Obj
  try {
    obj = JSON.parse(data)
  } catch {
    return false
  }
  switch (obj.type) {
    case 'message_start': {
      const u = anthropicUsage(obj.message?.usage)
      if (u) meter.report(u, false)
      break
    }
    case 'content_block_delta': {
      const d = obj.delta ?? {}
      meter.addText(d.text ?? d.partial_json ?? d.thinking)
      break
    }
    case 'message_stop':
      meter.ended = true
      break
    case 'message_delta': {
      const u = obj.usage ?? {}
      const prev = meter.usage ?? { promptTokens: 0, completionTokens: 0, cachedTokens: 0 }
      // Newer API versions repeat the input figures here; they are cumulative like output_tokens.
      const input = u.input_tokens !== undefined ? anthropicUsage(u) : null
      const from = input ?? prev
      const writes = from.cacheWriteTokens ?? 0
      // A repeat without the 1-hour split keeps the split message_start gave.
      const writes1h =
        input && u.cache_creation
          ? (input.cacheWrite1hTokens ?? 0)
          : Math.min(prev.cacheWrite1hTokens ?? 0, writes)
      meter.report(
        {
          promptTokens: from.promptTokens,
          completionTokens: num(u.output_tokens) || prev.completionTokens,
          cachedTokens: from.cachedTokens,
          cacheWriteTokens: writes,
          cacheWrite1hTokens: writes1h,
        },
        true,
      )
      break
    }
  }
  return false
}

export function anthropicBody(obj: Obj, meter: Meter): void {
  const u = anthropicUsage(obj.usage)
  if (u) {
    meter.report(u, true)
    return
  }
  if (Array.isArray(obj.content)) for (const c of obj.content as Obj[]) meter.addText(c.text)
}
