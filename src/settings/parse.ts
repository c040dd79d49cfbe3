// Parsing and validation of each /x-config key (§7.5), once, when a value is set or loaded: the
// proxy then reads typed values. A parser takes what JSON or the environment gives and returns
// the typed value or why it is refused.
import { checkEntry, compileWildcard } from '../accounts/lists'
import type { PriceEntry } from '../billing/pricing'

export type { PriceEntry }

export type Parsed<T> = { ok: true; value: T } | { ok: false; why: string }
export type MapperEntry = { pattern: string; target: string; re: RegExp }
export type LevelEntry = { pattern: string; level: number; re: RegExp }
export type ModelLimit = { rpm?: number; tpm?: number }

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
const no = (why: string): Parsed<never> => ({ ok: false, why })
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const MAX_ENTRIES = 1_000
const MAX_PRICE_USD = 1_000_000
const PRICE_FIELDS = ['input', 'cached_input', 'output', 'per_image', 'per_request'] as const
const EMAIL_RE = /^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
const HOST_RE = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*$`)

/** `a=b, c=d` (commas or white space between pairs), a JSON object in a string, or an object. */
function pairs(v: unknown): Parsed<Array<[string, unknown]>> {
  if (isObject(v)) return ok(Object.entries(v))
  if (typeof v !== 'string') return no('must be a string of from=to pairs or a JSON object')
  const s = v.trim()
  if (s.startsWith('{')) {
    try {
      const o = JSON.parse(s)
      if (isObject(o)) return ok(Object.entries(o))
    } catch {
      // reported below
    }
    return no('is not a valid JSON object')
  }
  const out: Array<[string, unknown]> = []
  for (const token of s.split(/[\s,]+/).filter(Boolean)) {
    const eq = token.indexOf('=')
    if (eq <= 0 || eq === token.length - 1) return no(`'${token}' is not a from=to pair`)
    out.push([token.slice(0, eq), token.slice(eq + 1)])
  }
  return ok(out)
}

/** A JSON object given as an object or as its text. */
function jsonObject(v: unknown): Parsed<Record<string, unknown>> {
  if (isObject(v)) return ok(v)
  if (typeof v === 'string') {
    if (v.trim() === '') return ok({})
    try {
      const o = JSON.parse(v)
      if (isObject(o)) return ok(o)
    } catch {
      // reported below
    }
  }
  return no('must be a JSON object')
}

const modelPattern = (p: string): string | null => {
  const c = checkEntry(p, 'models')
  return c.ok ? null : `'${p}' ${c.why}`
}

/** MODEL_PROVIDERS: model pattern → the provider format its calls go to (openai or anthropic). */
export function parseModelProviders(v: unknown): Parsed<Array<[string, 'openai' | 'anthropic']>> {
  const p = pairs(v)
  if (!p.ok) return p
  if (p.value.length > MAX_ENTRIES) return no(`more than ${MAX_ENTRIES} entries`)
  const out: Array<[string, 'openai' | 'anthropic']> = []
  for (const [pattern, target] of p.value) {
    const bad = modelPattern(pattern)
    if (bad) return no(bad)
    if (target !== 'openai' && target !== 'anthropic')
      return no(`'${pattern}' must name a provider format: openai or anthropic`)
    out.push([pattern, target])
  }
  return { ok: true, value: out }
}

/**
 * The order in which the proxy's mapper tries entries: exact names, then `*` patterns with the
 * most literal characters first (ties by pattern); the first entry that matches wins.
 */
const byPrecedence = <E extends { pattern: string }>(list: E[]) => {
  const literal = (p: string) => p.replaceAll('*', '').length
  const wild = list.filter((e) => e.pattern.includes('*'))
  wild.sort((a, b) => literal(b.pattern) - literal(a.pattern) || (a.pattern < b.pattern ? -1 : 1))
  return [...list.filter((e) => !e.pattern.includes('*')), ...wild]
}

const stars = (s: string) => s.split('*').length - 1

export function parseModelMapper(v: unknown): Parsed<MapperEntry[]> {
  const p = pairs(v)
  if (!p.ok) return p
  if (p.value.length > MAX_ENTRIES) return no(`more than ${MAX_ENTRIES} entries`)
  const out: MapperEntry[] = []
  for (const [pattern, target] of p.value) {
    const bad = modelPattern(pattern)
    if (bad) return no(bad)
    // One `*` in the target takes what the pattern's one `*` matched: claude-*=vendor/claude-*.
    const substitutes = typeof target === 'string' && stars(target) === 1 && stars(pattern) === 1
    if (typeof target !== 'string' || modelPattern(target) || (stars(target) > 0 && !substitutes)) {
      return no(`'${pattern}' must map to a model name ('*' only as one-for-one substitution)`)
    }
    out.push({ pattern, target, re: compileWildcard(pattern) })
  }
  return ok(byPrecedence(out))
}

const level = (v: unknown): number | null => {
  const n = typeof v === 'string' && /^\d{1,2}$/.test(v.trim()) ? Number(v) : v
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 10 ? n : null
}

export function parseLevelMapper(v: unknown): Parsed<LevelEntry[]> {
  const p = pairs(v)
  if (!p.ok) return p
  if (p.value.length > MAX_ENTRIES) return no(`more than ${MAX_ENTRIES} entries`)
  const out: LevelEntry[] = []
  for (const [pattern, raw] of p.value) {
    const bad = modelPattern(pattern)
    if (bad) return no(bad)
    const n = level(raw)
    if (n === null) return no(`'${pattern}' must map to a level from 0 to 10`)
    out.push({ pattern, level: n, re: compileWildcard(pattern) })
  }
  return ok(byPrecedence(out))
}

export function parseSwitchOver(v: unknown): Parsed<Map<number, number>> {
  const p = pairs(v)
  if (!p.ok) return p
  const out = new Map<number, number>()
  for (const [from, to] of p.value) {
    const a = level(from)
    const b = level(to)
    if (a === null || b === null)
      return no(`'${from}=${String(to)}': levels are integers from 0 to 10`)
    if (a === b) return no(`'${from}=${String(to)}' switches a level to itself`)
    if (out.has(a)) return no(`level ${a} is given twice`)
    out.set(a, b)
  }
  return ok(out)
}

/** Paths as in the Resources list field; `""` or `*` = unrestricted (null), `-*` = none. */
export function parseResources(v: unknown): Parsed<string[] | null> {
  const tokens = Array.isArray(v)
    ? v
    : typeof v === 'string'
      ? v.split(/[\s,]+/).filter(Boolean)
      : null
  if (!tokens)
    return no('must be a string of paths (space- or comma-separated) or an array of paths')
  if (tokens.length === 0 || (tokens.length === 1 && tokens[0] === '*')) return ok(null)
  if (tokens.length === 1 && tokens[0] === '-*') return ok([])
  if (tokens.length > MAX_ENTRIES) return no(`more than ${MAX_ENTRIES} entries`)
  const out = new Set<string>()
  for (const t of tokens) {
    if (typeof t !== 'string') return no('entries must be strings')
    const c = checkEntry(t, 'resources')
    if (!c.ok) return no(`'${t}' ${c.why}`)
    out.add(c.value)
  }
  return ok([...out])
}

export function parseModelLimits(v: unknown): Parsed<Record<string, ModelLimit>> {
  const o = jsonObject(v)
  if (!o.ok) return no('must be a JSON object like {"gpt-4o": {"rpm": 60, "tpm": 100000}}')
  const out: Record<string, ModelLimit> = {}
  for (const [model, limit] of Object.entries(o.value)) {
    const bad = modelPattern(model)
    if (bad) return no(bad)
    if (!isObject(limit)) return no(`"${model}" must be an object with rpm and/or tpm`)
    const entry: ModelLimit = {}
    for (const [k, n] of Object.entries(limit)) {
      if (k !== 'rpm' && k !== 'tpm') return no(`"${model}".${k} is not rpm or tpm`)
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
        return no(`"${model}".${k} must be a whole number ≥ 0 (0 = unlimited)`)
      }
      entry[k] = n
    }
    out[model] = entry
  }
  return ok(out)
}

export function parseModelPrices(v: unknown): Parsed<Record<string, PriceEntry>> {
  const o = jsonObject(v)
  if (!o.ok) return no('must be a JSON object like {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}')
  const out: Record<string, PriceEntry> = {}
  for (const [model, entry] of Object.entries(o.value)) {
    const bad = modelPattern(model)
    if (bad) return no(bad)
    if (!isObject(entry) || Object.keys(entry).length === 0) {
      return no(`"${model}" must be an object with some of ${PRICE_FIELDS.join(', ')}`)
    }
    const price: PriceEntry = {}
    for (const [k, n] of Object.entries(entry)) {
      if (!(PRICE_FIELDS as readonly string[]).includes(k)) {
        return no(`"${model}".${k} is not one of ${PRICE_FIELDS.join(', ')}`)
      }
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > MAX_PRICE_USD) {
        return no(`"${model}".${k} must be a number of USD from 0 to ${MAX_PRICE_USD}`)
      }
      price[k as keyof PriceEntry] = n
    }
    out[model] = price
  }
  return ok(out)
}

export function parseText(max: number) {
  return (v: unknown): Parsed<string | undefined> => {
    if (typeof v !== 'string') return no('must be a string')
    if (v.length > max) return no(`longer than ${max} characters`)
    return ok(v.trim() === '' ? undefined : v)
  }
}

/** One address, or `Name <address>`. */
export function parseSender(v: unknown): Parsed<string | undefined> {
  if (typeof v !== 'string' || v.length > 320)
    return no('must be an e-mail address or "Name <address>"')
  const s = v.trim()
  if (s === '') return ok(undefined)
  const m = /^[^<>]*<([^<>]+)>$/.exec(s)
  return EMAIL_RE.test(m ? m[1]!.trim() : s) ? ok(s) : no(`'${s}' is not an e-mail address`)
}

/** E-mail addresses separated by commas or white space. */
export function parseAddresses(v: unknown): Parsed<string[]> {
  if (typeof v !== 'string' || v.length > 4_096)
    return no('must be e-mail addresses separated by commas')
  const list = v.split(/[\s,;]+/).filter(Boolean)
  const bad = list.find((a) => !EMAIL_RE.test(a))
  return bad === undefined ? ok(list) : no(`'${bad}' is not an e-mail address`)
}

export function parseHost(v: unknown): Parsed<string | undefined> {
  if (typeof v !== 'string') return no('must be a host name')
  const s = v.trim()
  if (s === '') return ok(undefined)
  return HOST_RE.test(s) || /^\[[0-9A-Fa-f:.]+\]$/.test(s) ? ok(s) : no(`'${s}' is not a host name`)
}

export function parsePort(v: unknown): Parsed<number | undefined> {
  if (v === '') return ok(undefined)
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65_535
    ? ok(n)
    : no('must be a port number from 1 to 65535')
}

export function parseBool(v: unknown): Parsed<boolean> {
  if (typeof v === 'boolean') return ok(v)
  if (typeof v === 'string' && /^(1|true|yes|on)$/i.test(v.trim())) return ok(true)
  if (typeof v === 'string' && /^(0|false|no|off)$/i.test(v.trim())) return ok(false)
  return no('must be true or false')
}

export function parseUsd(v: unknown): Parsed<number> {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= MAX_PRICE_USD
    ? ok(n)
    : no(`must be a number of USD from 0 to ${MAX_PRICE_USD}`)
}
