// Token estimates with a real BPE tokenizer (gpt-tokenizer, o200k_base): for calls whose upstream
// reported no usage (marked `estimated`) and for the token reservations of rate limits.
//
// Cost: BPE is linear in text length while the pieces it merges stay short, but quadratic in the
// length of one piece (a run like 'aaaa…' or unspaced CJK text). So runs longer than MAX_RUN are
// cut, and at most EXACT_CHARS characters are tokenized per string and per request body; longer
// text is sampled in windows and scaled. Measured on 2 cores: ~1 ms for 32 Ki characters of prose,
// ~30 ms for 32 Ki of random base64 (the worst case found), ~1.5 µs for a one-message chat body. Bodies are walked once;
// only `tools` and tool-call inputs are stringified.
// None of these functions throws: odd input counts as 0, a tokenizer failure falls back to chars/4.

import { countTokens as bpeCount, setMergeCacheSize } from 'gpt-tokenizer'

// The tokenizer's merge cache is an LRU over a Map; at its default 100,000 entries a full cache
// made cache hits cost ~40 µs each here (1 s for 30,000 repeated pieces). A small cache keeps hits
// cheap. This module is xgate's only user of gpt-tokenizer, so the global setting is ours.
setMergeCacheSize(256)

/** Special-token text such as '<|endoftext|>' is counted as plain text instead of throwing. */
const ENCODE_OPTIONS = { disallowedSpecial: new Set<string>() }
/** Longest run of one character class handed to BPE in one piece (see countSliced). */
const MAX_RUN = 48
/** Characters tokenized per countTokens call and per request body; longer text is sampled. */
const EXACT_CHARS = 32 * 1024
const SAMPLE_WINDOWS = 8
/** Below this many budget characters a string is extrapolated rather than sampled. */
const MIN_SAMPLE_CHARS = 4096
/** Fallback characters per token when nothing could be counted. */
const CHARS_PER_TOKEN = 4
/** Per-message framing tokens (role, separators) and the reply's priming, as OpenAI counts them. */
const MESSAGE_OVERHEAD = 3
const REPLY_PRIMING = 3
/** An image part: OpenAI's 1024×1024 high-detail price (765); Anthropic's is of the same order. */
const IMAGE_TOKENS = 765
const LOW_DETAIL_IMAGE_TOKENS = 85
const MAX_DEPTH = 16

function hasRole(item: unknown): boolean {
  return typeof item === 'object' && item !== null && 'role' in item
}

// Character classes of the tokenizer's pre-split: one BPE piece never spans more than one run of a
// class plus a character or two, so capping runs caps piece length. Prose, JSON, code and URLs have
// short runs and are counted exactly.
const SPACE = 1
const NUMBER = 2
const LETTER = 3
const OTHER = 4
const LETTER_RE = /[\p{L}\p{M}]/u
const NUMBER_RE = /\p{N}/u
const SPACE_RE = /\s/u

function classifyCodePoint(cp: number): number {
  const ch = String.fromCodePoint(cp)
  if (LETTER_RE.test(ch)) return LETTER
  if (NUMBER_RE.test(ch)) return NUMBER
  if (SPACE_RE.test(ch)) return SPACE
  return OTHER
}

/** Class of every BMP code unit, filled on first sight (64 KiB, never grows). */
const BMP_CLASS = new Uint8Array(0x10000)
for (let c = 0; c < 128; c++) BMP_CLASS[c] = classifyCodePoint(c)

/** Exact count of `text`, except that runs longer than MAX_RUN are tokenized in slices. */
function countSliced(text: string): number {
  let total = 0
  let segmentStart = 0
  let runLength = 0
  let runClass = 0
  for (let i = 0; i < text.length; i++) {
    const start = i
    const code = text.charCodeAt(i)
    let cls = BMP_CLASS[code]!
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      cls = classifyCodePoint(text.codePointAt(i)!)
      i++ // the low surrogate belongs to this character; cuts never split a pair
    } else if (cls === 0) {
      cls = BMP_CLASS[code] = classifyCodePoint(code)
    }
    if (cls !== runClass) {
      runClass = cls
      runLength = 0
    }
    if (++runLength > MAX_RUN) {
      total += bpeCount(text.slice(segmentStart, start), ENCODE_OPTIONS)
      segmentStart = start
      runLength = 1
    }
  }
  if (segmentStart === 0) return bpeCount(text, ENCODE_OPTIONS)
  return total + bpeCount(text.slice(segmentStart), ENCODE_OPTIONS)
}

/**
 * Counts `text` exactly when it fits in `limit` characters; otherwise counts SAMPLE_WINDOWS
 * windows spread over it, `limit` characters in all, and scales by length.
 */
function countLimited(text: string, limit: number): number {
  if (text.length <= limit) return countSliced(text)
  const width = Math.floor(limit / SAMPLE_WINDOWS)
  const step = text.length / SAMPLE_WINDOWS
  let counted = 0
  for (let k = 0; k < SAMPLE_WINDOWS; k++) {
    const start = Math.floor(k * step)
    counted += countSliced(text.slice(start, start + width))
  }
  return Math.ceil((counted * text.length) / (width * SAMPLE_WINDOWS))
}

/** Tokens in `text` (o200k_base). Non-strings count 0. */
export function countTokens(text: unknown): number {
  if (typeof text !== 'string' || text.length === 0) return 0
  try {
    return countLimited(text, EXACT_CHARS)
  } catch {
    return Math.ceil(text.length / CHARS_PER_TOKEN)
  }
}

/** Tokens of generated text, for streams whose usage never arrived. */
export function estimateCompletionTokens(text: unknown): number {
  return countTokens(text)
}

/** Accumulates one body's tokens under a shared budget of exactly counted characters. */
class Meter {
  tokens = 0
  private budget = EXACT_CHARS
  private countedChars = 0
  private countedTokens = 0

  text(s: string): void {
    if (s.length === 0) return
    if (this.budget >= Math.min(s.length, MIN_SAMPLE_CHARS)) {
      const exactPart = Math.min(s.length, this.budget)
      const n = countLimited(s, exactPart)
      this.budget -= exactPart
      this.countedChars += s.length
      this.countedTokens += n
      this.tokens += n
      return
    }
    // Budget spent: extrapolate with the ratio seen so far in this body.
    const ratio = this.countedChars > 0 ? this.countedTokens / this.countedChars : 0
    this.tokens += Math.ceil(s.length * (ratio || 1 / CHARS_PER_TOKEN))
  }

  json(value: unknown): void {
    if (value === undefined || value === null) return
    const s = JSON.stringify(value)
    if (typeof s === 'string') this.text(s)
  }

  /** Walks message content in any of the OpenAI and Anthropic shapes. */
  part(value: unknown, depth = 0): void {
    if (depth > MAX_DEPTH || value === null || value === undefined) return
    if (typeof value === 'string') return this.text(value)
    if (typeof value === 'number') {
      this.tokens += 1 // a token id in a pre-tokenized prompt or embeddings input
      return
    }
    if (Array.isArray(value)) {
      for (const item of value) this.part(item, depth + 1)
      return
    }
    if (typeof value !== 'object') return
    const o = value as Record<string, unknown>
    const type = typeof o.type === 'string' ? o.type : ''
    if (type.includes('image')) {
      const detail = (o.image_url as { detail?: unknown } | undefined)?.detail ?? o.detail
      this.tokens += detail === 'low' ? LOW_DETAIL_IMAGE_TOKENS : IMAGE_TOKENS
      return
    }
    if (typeof o.role === 'string') this.tokens += MESSAGE_OVERHEAD
    this.part(o.text, depth + 1)
    this.part(o.content, depth + 1)
    this.part(o.thinking, depth + 1)
    this.part(o.refusal, depth + 1)
    this.part(o.output, depth + 1)
    this.part(o.summary, depth + 1)
    if (typeof o.name === 'string') this.text(o.name)
    if (typeof o.arguments === 'string') this.text(o.arguments)
    if (o.function && typeof o.function === 'object') this.part(o.function, depth + 1)
    if (Array.isArray(o.tool_calls)) this.part(o.tool_calls, depth + 1)
    // tool_use blocks carry arbitrary JSON as `input`; content parts carry text or arrays.
    if (o.input && typeof o.input === 'object' && !Array.isArray(o.input)) this.json(o.input)
    else this.part(o.input, depth + 1)
  }
}

/**
 * Prompt tokens of a request body: OpenAI chat (messages, tools, functions), completions (prompt),
 * embeddings and moderations (input), responses (instructions, input, tools) and Anthropic
 * messages (system, messages, tools). Unknown shapes count what they have in those fields.
 */
export function estimatePromptTokens(body: unknown): number {
  const meter = new Meter()
  try {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 0
    const b = body as Record<string, unknown>
    const conversation =
      Array.isArray(b.messages) || (Array.isArray(b.input) && b.input.some(hasRole))
    meter.part(b.system)
    meter.part(b.instructions)
    meter.part(b.messages)
    meter.part(b.prompt)
    meter.part(b.input)
    meter.json(b.tools)
    meter.json(b.functions)
    if (conversation) meter.tokens += REPLY_PRIMING
  } catch {
    // A body too deep or odd for the walker keeps what was counted so far.
  }
  return meter.tokens
}
