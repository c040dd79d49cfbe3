// What both translation directions share: stop reasons, usage figures with each provider's meaning,
// the dropped-parameter record, range clamps and the 400 a request that cannot be translated gets.
// Pure: no framework, no I/O.
import { AppError } from '../../shared/errors'

export type Obj = Record<string, any>
export type Dialect = 'openai' | 'anthropic'

export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** An upstream SSE `data:` payload as an object, or null (not JSON, or not an object). */
export function eventObject(data: string): Obj | null {
  try {
    const e: unknown = JSON.parse(data)
    return isObj(e) ? e : null
  } catch {
    return null
  }
}

const count = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0

/** A request field that has no translation: a 400 naming it (`param`), in the client's dialect. */
export function untranslatable(param: string, why: string): AppError {
  return new AppError('bad_request', `${param}: ${why}`, { param })
}

/** A parameter value that asks for something (null, false and absent ask for nothing). */
export const given = (v: unknown): boolean => v !== undefined && v !== null && v !== false

/** Parameters with no equivalent in the target, in the order met; sent as x-xgate-dropped-params. */
export class Dropped {
  readonly names: string[] = []
  add(name: string): void {
    if (!this.names.includes(name)) this.names.push(name)
  }
  header(): string | null {
    return this.names.length ? this.names.join(',') : null
  }
}

/** Clamps a sampling temperature into [0, max]; non-numbers stay absent. */
export function clampTemperature(v: unknown, max: number): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined
  return Math.min(max, Math.max(0, v))
}

// Stop reasons. Anthropic → OpenAI: a turn that ended (naturally, on a stop sequence, or paused)
// is `stop`; OpenAI → Anthropic: `stop` is end_turn (OpenAI does not say a stop sequence matched).
const TO_OPENAI_STOP: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
}
const TO_ANTHROPIC_STOP: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
}

export function openaiFinish(stopReason: unknown): string | null {
  if (typeof stopReason !== 'string') return null
  return TO_OPENAI_STOP[stopReason] ?? 'stop'
}

export function anthropicStop(finish: unknown): string | null {
  if (typeof finish !== 'string') return null
  return TO_ANTHROPIC_STOP[finish] ?? 'end_turn'
}

/**
 * Anthropic usage → OpenAI usage. Anthropic `input_tokens` excludes cache reads and writes;
 * OpenAI `prompt_tokens` is the whole prompt with `cached_tokens` (the reads) inside it.
 */
export function openaiUsageOf(u: Obj | null | undefined): Obj {
  const reads = count(u?.cache_read_input_tokens)
  const writes = count(u?.cache_creation_input_tokens)
  const prompt = count(u?.input_tokens) + reads + writes
  const completion = count(u?.output_tokens)
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: reads },
  }
}

/** OpenAI usage → Anthropic usage: the cached share moves out of input into cache reads. */
export function anthropicUsageOf(u: Obj | null | undefined): Obj {
  const prompt = count(u?.prompt_tokens ?? u?.input_tokens)
  const cached = Math.min(
    prompt,
    count(u?.prompt_tokens_details?.cached_tokens ?? u?.input_tokens_details?.cached_tokens),
  )
  return {
    input_tokens: prompt - cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: count(u?.completion_tokens ?? u?.output_tokens),
  }
}

/** Parses tool-call arguments to the object Anthropic wants; anything else becomes {}. */
export function argumentsObject(text: unknown): Obj {
  if (typeof text !== 'string' || text.trim() === '') return {}
  try {
    const v = JSON.parse(text)
    return isObj(v) ? v : {}
  } catch {
    return {}
  }
}

/** `data:<media>;base64,<data>` → its parts, or null for any other URL. */
export function dataUrl(url: string): { mediaType: string; data: string } | null {
  const m = /^data:([^;,]+);base64,/i.exec(url)
  return m ? { mediaType: m[1]!.toLowerCase(), data: url.slice(m[0].length) } : null
}

/** OpenAI reasoning models (o-series, gpt-5): they take reasoning_effort, not temperature. */
export function openaiReasons(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model)
}

/** Text of a string or a list of text parts/blocks (non-text parts are skipped). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  let out = ''
  for (const p of content) if (isObj(p) && typeof p.text === 'string') out += p.text
  return out
}
