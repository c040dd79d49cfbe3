// Model prices: the embedded table (prices.json) merged with MODEL_PRICES overrides, the model
// catalogue (catalogue.json, from scripts/catalogue.ts) beneath them with each model's limits,
// wildcard lookup, and validation of a price object. The cost of one call is in cost.ts.

import { AppError } from '../shared/errors'
import { NANO_PER_USD } from '../shared/money'
import { divRound } from './cost'
import catalogueJson from './catalogue.json'
import table from './prices.json'

export { costNano } from './cost'

/** A price as written in prices.json and MODEL_PRICES: USD per million tokens, or USD per unit. */
export type PriceEntry = {
  input?: number
  cached_input?: number
  /** Prompt tokens written to a 5-minute cache; default CACHE_WRITE_5M × input. */
  cache_write?: number
  /** Prompt tokens written to a 1-hour cache; default CACHE_WRITE_1H × input. */
  cache_write_1h?: number
  output?: number
  per_image?: number
  per_request?: number
}

/** Integer nano-USD per million tokens (token prices) or per unit (per_image, per_request). */
export type NanoPrice = {
  inputPerM: bigint
  cachedInputPerM: bigint
  cacheWritePerM: bigint
  cacheWrite1hPerM: bigint
  outputPerM: bigint
  perImage: bigint
  perRequest: bigint
}

/** A looked-up price: the USD entry as configured, the key it came from, and its nano form. */
export type ResolvedPrice = Readonly<PriceEntry> & {
  readonly key: string
  readonly nano: NanoPrice
  /** The most output tokens one call of the model may produce (model catalogue), if known. */
  readonly maxOutputTokens?: number
  /** The model's context window in tokens (model catalogue), if known. */
  readonly contextTokens?: number
}

export type Usage = {
  promptTokens: number
  completionTokens: number
  /** Prompt tokens served from the provider's cache; part of promptTokens, not added to it. */
  cachedTokens: number
  /**
   * Prompt tokens written to the provider's cache (5-minute and 1-hour writes together); part of
   * promptTokens like cachedTokens, and apart from them.
   */
  cacheWriteTokens?: number
  /** The 1-hour share of cacheWriteTokens. */
  cacheWrite1hTokens?: number
  images?: number
  /** Defaults to 1: one proxied call is one request. */
  requests?: number
}

export type Cost = { listNano: number; chargedNano: number }

export type Pricing = {
  lookup(model: string): ResolvedPrice | undefined
  /** Exact (non-wildcard) names the table or MODEL_PRICES prices, for GET /v1/models. */
  models(): string[]
  validatePrices(obj: unknown): string | null
}

const FIELDS = [
  'input',
  'cached_input',
  'cache_write',
  'cache_write_1h',
  'output',
  'per_image',
  'per_request',
] as const
/**
 * The provider's published cache-write multipliers of the input price (Anthropic: 5-minute
 * writes 1.25×, 1-hour writes 2×), as fractions so the nano price is computed exactly.
 */
export const CACHE_WRITE_5M = { num: 5n, den: 4n } as const
export const CACHE_WRITE_1H = { num: 2n, den: 1n } as const
/** Upper bound for one price, so that nano-USD conversion stays far inside safe integers. */
const MAX_PRICE_USD = 1_000_000
const MAX_KEY_LENGTH = 200

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Checks a MODEL_PRICES-shaped object. Returns null when valid, else one line naming the model and
 * field at fault. Each entry needs at least one known field; every value a finite number ≥ 0.
 */
export function validatePrices(obj: unknown): string | null {
  if (!isPlainObject(obj)) return 'MODEL_PRICES must be a JSON object keyed by model name'
  for (const [model, entry] of Object.entries(obj)) {
    if (model.trim() === '' || model.length > MAX_KEY_LENGTH) {
      return `MODEL_PRICES: model name must be 1-${MAX_KEY_LENGTH} characters`
    }
    if (!isPlainObject(entry)) return `MODEL_PRICES["${model}"] must be an object of prices`
    const fields = Object.keys(entry)
    if (fields.length === 0) {
      return `MODEL_PRICES["${model}"] needs at least one of ${FIELDS.join(', ')}`
    }
    for (const field of fields) {
      if (!(FIELDS as readonly string[]).includes(field)) {
        return `MODEL_PRICES["${model}"].${field} is not a known field (${FIELDS.join(', ')})`
      }
      const value = entry[field]
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        return `MODEL_PRICES["${model}"].${field} must be a finite number >= 0`
      }
      if (value > MAX_PRICE_USD) {
        return `MODEL_PRICES["${model}"].${field} must be at most ${MAX_PRICE_USD}`
      }
    }
  }
  return null
}

/** USD → integer nano-USD, rounded once; prices are bounded by validatePrices. */
function toNano(usd: number | undefined): bigint {
  return BigInt(Math.round((usd ?? 0) * NANO_PER_USD))
}

/** Converts a USD entry to its nano form once, at load. Assumes the entry passed validatePrices. */
export function compilePrice(entry: PriceEntry, key = ''): ResolvedPrice {
  const usd: PriceEntry = {}
  for (const f of FIELDS) if (entry[f] !== undefined) usd[f] = entry[f]
  const inputPerM = toNano(entry.input)
  const nano: NanoPrice = {
    inputPerM,
    // Without a cached price, cached prompt tokens cost the full input price.
    cachedInputPerM: toNano(entry.cached_input ?? entry.input),
    cacheWritePerM:
      entry.cache_write !== undefined
        ? toNano(entry.cache_write)
        : divRound(inputPerM * CACHE_WRITE_5M.num, CACHE_WRITE_5M.den),
    cacheWrite1hPerM:
      entry.cache_write_1h !== undefined
        ? toNano(entry.cache_write_1h)
        : divRound(inputPerM * CACHE_WRITE_1H.num, CACHE_WRITE_1H.den),
    outputPerM: toNano(entry.output),
    perImage: toNano(entry.per_image),
    perRequest: toNano(entry.per_request),
  }
  return Object.freeze({ ...usd, key, nano: Object.freeze(nano) })
}

type Pattern = { literalChars: number; key: string; re: RegExp; price: ResolvedPrice }

/** Prices by exact name, then by wildcard pattern, most specific first. */
type Book = { exact: Map<string, ResolvedPrice>; patterns: Pattern[] }

function patternRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`)
}

function bookOf(entries: Record<string, PriceEntry>, compile = compilePrice): Book {
  const exact = new Map<string, ResolvedPrice>()
  const patterns: Pattern[] = []
  for (const [key, entry] of Object.entries(entries)) {
    const price = compile(entry, key)
    if (!key.includes('*')) exact.set(key, price)
    else {
      const literalChars = key.replaceAll('*', '').length
      patterns.push({ literalChars, key, re: patternRegExp(key), price })
    }
  }
  // Most specific first: more literal characters, then the longer pattern, then by name so the
  // order never depends on object key order.
  patterns.sort(
    (a, b) =>
      b.literalChars - a.literalChars ||
      b.key.length - a.key.length ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  )
  return { exact, patterns }
}

function find(book: Book, model: string): ResolvedPrice | undefined {
  const hit = book.exact.get(model)
  if (hit) return hit
  for (const p of book.patterns) if (p.re.test(model)) return p.price
  return undefined
}

/** A catalogue entry: a price and the model's limits (scripts/catalogue.ts writes them). */
export type CatalogueEntry = PriceEntry & { context?: number; max_output?: number }

const positive = (n: number | undefined) =>
  typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined

/** The embedded model catalogue, compiled once: prices with their limits. */
export const catalogue: Book = bookOf(
  (catalogueJson as { models: Record<string, CatalogueEntry> }).models,
  (entry: CatalogueEntry, key) => {
    const price = compilePrice(entry, key)
    const maxOutputTokens = positive(entry.max_output)
    const contextTokens = positive(entry.context)
    return maxOutputTokens === undefined && contextTokens === undefined
      ? price
      : Object.freeze({ ...price, maxOutputTokens, contextTokens })
  },
)

/** The `own` price with the catalogue's limits for the model, when it knows any. */
function withLimits(own: ResolvedPrice, cat: ResolvedPrice | undefined): ResolvedPrice {
  if (!cat || (cat.maxOutputTokens === undefined && cat.contextTokens === undefined)) return own
  return Object.freeze({
    ...own,
    maxOutputTokens: cat.maxOutputTokens,
    contextTokens: cat.contextTokens,
  })
}

/** Looked-up names remembered per price book; cleared when full, so clients cannot grow it. */
const REMEMBERED_MAX = 4096

/**
 * Builds the price book: the embedded table with `overrides` replacing whole entries by key, and
 * beneath both the model catalogue for models neither prices. A price found in the table or the
 * overrides carries the catalogue's limits for the model.
 * Throws AppError(bad_request) naming the bad entry when overrides are invalid.
 */
export function createPricing(overrides?: Record<string, PriceEntry>): Pricing {
  const problem = validatePrices(overrides ?? {})
  if (problem) throw new AppError('bad_request', problem, { param: 'MODEL_PRICES' })
  const own = bookOf({ ...(table as Record<string, PriceEntry>), ...overrides })
  const remembered = new Map<string, ResolvedPrice | null>()
  const resolve = (model: string): ResolvedPrice | undefined => {
    const mine = find(own, model)
    const cat = find(catalogue, model)
    return mine ? withLimits(mine, cat) : cat
  }

  return {
    lookup(model) {
      const known = remembered.get(model)
      if (known !== undefined) return known ?? undefined
      const price = resolve(model)
      if (remembered.size >= REMEMBERED_MAX) remembered.clear()
      remembered.set(model, price ?? null)
      return price
    },
    models: () => [...own.exact.keys()].sort(),
    validatePrices,
  }
}
