// What one call consumed, as the response flows by: the upstream's usage when it reports one, and
// the generated text for an estimate when it does not (aborted streams). Memory stays bounded and
// nothing is tokenized while the answer flows: up to KEEP_CHARS of text are kept, longer answers
// are extrapolated from them by length at settlement. A JSON answer's usage is read from the
// object near its end, without parsing the rest.
import type { Usage } from '../billing/pricing'
import { anthropicBody } from './providers/anthropic'
import { openaiBody } from './providers/openai'

const KEEP_CHARS = 64 * 1024
const USAGE_KEY = Buffer.from('"usage"')

export type Tokenizer = {
  /** Tokens of generated text. */
  count(text: string): number
  /** Tokens of the prompt a request body carries. */
  prompt(body: unknown): number
}

/** Loads the tokenizer (tens of MB of ranks) on the first estimate, not at start-up. */
export function lazyTokenizer(load: () => Tokenizer): Tokenizer {
  let t: Tokenizer | null = null
  return {
    count: (text) => (t ??= load()).count(text),
    prompt: (body) => (t ??= load()).prompt(body),
  }
}

export class Meter {
  /** Usage as reported upstream so far; `complete` once its final figures were seen. */
  usage: Usage | null = null
  complete = false
  /** The stream's own end marker ([DONE], message_stop) went by: the answer was whole. */
  ended = false
  private pieces: string[] = []
  private kept = 0
  private chars = 0

  constructor(private readonly tokenizer: Tokenizer) {}

  report(usage: Usage, complete: boolean): void {
    this.usage = usage
    this.complete = complete
  }

  addText(text: unknown): void {
    if (typeof text !== 'string' || text.length === 0) return
    this.chars += text.length
    if (this.kept >= KEEP_CHARS) return
    this.pieces.push(text)
    this.kept += text.length
  }

  /** Tokens of the text seen so far. */
  completionEstimate(): number {
    if (this.kept === 0) return 0
    const counted = this.tokenizer.count(this.pieces.join(''))
    return this.chars === this.kept ? counted : Math.ceil((counted * this.chars) / this.kept)
  }

  /**
   * Final usage: the upstream's when complete; else what it reported with the completion raised
   * to the estimate of the text seen, prompt estimated from `body` when never reported.
   */
  final(body: unknown): { usage: Usage; estimated: boolean } {
    if (this.usage && this.complete) return { usage: this.usage, estimated: false }
    const completion = Math.max(this.usage?.completionTokens ?? 0, this.completionEstimate())
    const promptTokens = this.usage ? this.usage.promptTokens : this.tokenizer.prompt(body)
    return {
      usage: {
        promptTokens,
        completionTokens: completion,
        cachedTokens: this.usage?.cachedTokens ?? 0,
        cacheWriteTokens: this.usage?.cacheWriteTokens ?? 0,
        cacheWrite1hTokens: this.usage?.cacheWrite1hTokens ?? 0,
      },
      estimated: true,
    }
  }
}

/** The `"usage": {...}` object nearest the end of a JSON answer, without parsing the rest. */
export function tailUsage(buf: Uint8Array): Record<string, unknown> | null {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length)
  const at = b.lastIndexOf(USAGE_KEY)
  if (at < 0) return null
  // Only `"usage": {` counts; `"usage": null` must not borrow a later object.
  let open = at + USAGE_KEY.length
  while (open < b.length && (b[open] === 32 || b[open] === 58 || b[open] === 10 || b[open] === 13))
    open++
  if (b[open] !== 123) return null
  let depth = 0
  for (let i = open; i < b.length; i++) {
    if (b[i] === 123) depth++
    else if (b[i] === 125 && --depth === 0) {
      try {
        return { usage: JSON.parse(b.toString('utf8', open, i + 1)) }
      } catch {
        return null
      }
    }
  }
  return null
}

/**
 * Bodies up to PARSE_FIRST_MAX are parsed whole at once (measured: faster than finding the usage
 * object in a 500-byte chat answer); larger ones have their usage object near the end read first,
 * and are parsed whole up to PARSE_WHOLE_MAX only when it is missing (to estimate).
 */
const PARSE_FIRST_MAX = 4 * 1024
const PARSE_WHOLE_MAX = 256 * 1024
const decoder = new TextDecoder()

/** A whole JSON answer's usage (or text, for an estimate), read in the upstream's dialect. */
export function meterAnswer(buf: Uint8Array, dialect: 'openai' | 'anthropic', meter: Meter): void {
  let obj: Record<string, unknown> | null = buf.length <= PARSE_FIRST_MAX ? null : tailUsage(buf)
  if (!obj?.usage && buf.length <= PARSE_WHOLE_MAX) {
    try {
      obj = JSON.parse(decoder.decode(buf))
    } catch {
      obj = null
    }
  }
  if (obj && typeof obj === 'object') meterObject(obj, dialect, meter)
}

/** An answer already parsed (a translated one), read in the upstream's dialect. */
export function meterObject(
  obj: Record<string, unknown>,
  dialect: 'openai' | 'anthropic',
  meter: Meter,
): void {
  if (dialect === 'anthropic') anthropicBody(obj, meter)
  else openaiBody(obj, meter)
}
