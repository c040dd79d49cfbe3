// The OpenAI dialect: reading usage from bodies and SSE events of chat, completions, responses,
// embeddings, images and audio, collecting generated text for estimates, and spotting the usage
// chunk the gateway asked for on the client's behalf.
import type { Usage } from '../../billing/pricing'
import type { Meter } from '../meter'

type Obj = Record<string, any>

const num = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0

/** chat/completions/embeddings (`prompt_tokens`) and responses/images/audio (`input_tokens`). */
export function openaiUsage(u: Obj | null | undefined): Usage | null {
  if (!u || typeof u !== 'object') return null
  if (
    u.prompt_tokens === undefined &&
    u.input_tokens === undefined &&
    u.completion_tokens === undefined
  )
    return null
  return {
    promptTokens: num(u.prompt_tokens ?? u.input_tokens),
    completionTokens: num(u.completion_tokens ?? u.output_tokens),
    cachedTokens: num(
      u.prompt_tokens_details?.cached_tokens ?? u.input_tokens_details?.cached_tokens,
    ),
  }
}

function collectChoiceText(choices: unknown, meter: Meter): void {
  if (!Array.isArray(choices)) return
  for (const c of choices as Obj[]) {
    meter.addText(c.text)
    const d = c.delta ?? c.message
    if (!d) continue
    meter.addText(d.content)
    meter.addText(d.refusal)
    meter.addText(d.reasoning_content)
    if (Array.isArray(d.tool_calls))
      for (const t of d.tool_calls as Obj[]) meter.addText(t.function?.arguments)
  }
}

/**
 * One SSE `data:` payload of an OpenAI stream. Returns true when the event is the usage chunk the
 * gateway requested and `hideUsage` is set: the client never asked for it, so it must not see it.
 */
export function openaiEvent(data: string, meter: Meter, hideUsage: boolean): boolean {
  if (data === '[DONE]') {
    meter.ended = true
    return false
  }
  if (data.charCodeAt(0) !== 123) return false
  let obj: Obj
  try {
    obj = JSON.parse(data)
  } catch {
    return false
  }
  const type = obj.type
  if (typeof type === 'string') {
    // The Responses API: typed events; usage arrives with the final response object.
    if (type.endsWith('.delta')) meter.addText(obj.delta)
    else if (
      type === 'response.completed' ||
      type === 'response.incomplete' ||
      type === 'response.failed'
    ) {
      const u = openaiUsage(obj.response?.usage)
      if (u) meter.report(u, true)
    }
    return false
  }
  collectChoiceText(obj.choices, meter)
  const u = obj.usage ? openaiUsage(obj.usage) : null
  if (!u) return false
  meter.report(u, true)
  return hideUsage && Array.isArray(obj.choices) && obj.choices.length === 0
}

/** A whole JSON answer: usage, and the text for an estimate when usage is absent. */
export function openaiBody(obj: Obj, meter: Meter): void {
  const u = openaiUsage(obj.usage)
  if (u) {
    meter.report(u, true)
    return
  }
  collectChoiceText(obj.choices, meter)
  if (Array.isArray(obj.output)) {
    for (const item of obj.output as Obj[]) {
      if (Array.isArray(item.content)) for (const c of item.content as Obj[]) meter.addText(c.text)
    }
  }
}
