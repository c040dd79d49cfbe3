// The Anthropic dialect: usage from message_start (input, cache) and message_delta (cumulative
// output), or from a whole message; generated text for estimates when a stream is cut short.
import type { Usage } from '../../billing/pricing'
import type { Meter } from '../meter'

type Obj = Record<string, any>

const num = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0

/** Prompt = fresh input + cache writes + cache reads; cached = cache reads. */
export function anthropicUsage(u: Obj | null | undefined): Usage | null {
  if (!u || typeof u !== 'object' || u.input_tokens === undefined) return null
  const cached = num(u.cache_read_input_tokens)
  return {
    promptTokens: num(u.input_tokens) + num(u.cache_creation_input_tokens) + cached,
    completionTokens: num(u.output_tokens),
    cachedTokens: cached,
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
      meter.report(
        {
          promptTokens: input ? input.promptTokens : prev.promptTokens,
          completionTokens: num(u.output_tokens) || prev.completionTokens,
          cachedTokens: input ? input.cachedTokens : prev.cachedTokens,
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
