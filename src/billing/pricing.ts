// Model prices: the embedded table (prices.json) merged with MODEL_PRICES overrides, wildcard lookup,
// validation of a price object, and the exact nano-USD cost of one call.

import { AppError } from '../shared/errors'
import { NANO_PER_USD } from '../shared/money'
import table from './prices.json'

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
  /** Exact (non-wildcard) model names that have a price, for GET /v1/models. */
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
const TOKENS_PER_PRICE_UNIT = 1_000_000n
const NANO = BigInt(NANO_PER_USD)

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

function patternRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`)
}

/**
 * Builds the price book: the embedded table with `overrides` replacing whole entries by key.
 * Throws AppError(bad_request) naming the bad entry when overrides are invalid.
 */
export function createPricing(overrides?: Record<string, PriceEntry>): Pricing {
  const problem = validatePrices(overrides ?? {})
  if (problem) throw new AppError('bad_request', problem, { param: 'MODEL_PRICES' })
  const merged: Record<string, PriceEntry> = {
    ...(table as Record<string, PriceEntry>),
    ...overrides,
  }

  const exact = new Map<string, ResolvedPrice>()
  const patterns: Pattern[] = []
  for (const [key, entry] of Object.entries(merged)) {
    const price = compilePrice(entry, key)
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

  return {
    lookup(model) {
      const hit = exact.get(model)
      if (hit) return hit
      for (const p of patterns) if (p.re.test(model)) return p.price
      return undefined
    },
    models: () => [...exact.keys()].sort(),
    validatePrices,
  }
}

/** Clamps a reported count to a non-negative integer; garbage from upstream counts as 0. */
function count(n: number | undefined): bigint {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? BigInt(Math.floor(n)) : 0n
}

/** Rounds num/den half up; both are non-negative. */
function divRound(num: bigint, den: bigint): bigint {
  return (num + den / 2n) / den
}

function toSafeNumber(n: bigint): number {
  // An absurd usage report caps at the largest exact amount rather than throwing at settlement.
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n)
}

/** A price's nano figures as numbers, for the exact fast path of costNano(). */
const asNumbers = new WeakMap<NanoPrice, readonly number[]>()

function numbersOf(nano: NanoPrice): readonly number[] {
  let n = asNumbers.get(nano)
  if (!n) {
    n = [
      nano.inputPerM,
      nano.cachedInputPerM,
      nano.cacheWritePerM,
      nano.cacheWrite1hPerM,
      nano.outputPerM,
      nano.perImage,
      nano.perRequest,
    ].map(Number)
    asNumbers.set(nano, n)
  }
  return n
}

/** count() as a number: a non-negative integer. */
function countNum(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0
}

/**
 * Exact cost of one call in nano-USD. The sum is kept in nano-USD × 10^6, so the list price and
 * the charged price (× rates, given to 9 decimals) are each rounded once.
 *
 * Cache reads and writes are parts of the prompt: reads (at most the prompt) bill at cached_input,
 * writes (at most what reads leave) at cache_write, their 1-hour share at cache_write_1h, and
 * the rest of the prompt at input.
 *
 * At rates 1 the charged price is the list price; while the sum stays a safe integer it is
 * computed with plain numbers: every term is then a safe integer too, so nothing is rounded. Any
 * other case uses BigInt.
 * Throws RangeError when rates is not a finite number ≥ 0.
 */
export function costNano(price: ResolvedPrice, usage: Usage, rates = 1): Cost {
  if (typeof rates !== 'number' || !Number.isFinite(rates) || rates < 0) {
    throw new RangeError('rates must be a finite number >= 0')
  }
  const ratesNano = Math.round(rates * NANO_PER_USD)
  if (ratesNano === NANO_PER_USD) {
    const [inputPerM, cachedPerM, writePerM, write1hPerM, outputPerM, perImage, perRequest] =
      numbersOf(price.nano)
    const prompt = countNum(usage.promptTokens)
    const cached = Math.min(countNum(usage.cachedTokens), prompt)
    const writes = Math.min(countNum(usage.cacheWriteTokens), prompt - cached)
    const writes1h = Math.min(countNum(usage.cacheWrite1hTokens), writes)
    const requests = usage.requests === undefined ? 1 : countNum(usage.requests)
    const sum =
      (prompt - cached - writes) * inputPerM! +
      cached * cachedPerM! +
      (writes - writes1h) * writePerM! +
      writes1h * write1hPerM! +
      countNum(usage.completionTokens) * outputPerM! +
      (countNum(usage.images) * perImage! + requests * perRequest!) * PER_UNIT
    if (sum <= Number.MAX_SAFE_INTEGER - PER_UNIT) {
      const up = sum + PER_UNIT / 2
      const listNano = (up - (up % PER_UNIT)) / PER_UNIT
      return { listNano, chargedNano: listNano }
    }
  }
  return costBig(price.nano, usage, BigInt(ratesNano))
}

const PER_UNIT = Number(TOKENS_PER_PRICE_UNIT)

function costBig(nano: NanoPrice, usage: Usage, ratesNano: bigint): Cost {
  const prompt = count(usage.promptTokens)
  const cachedRaw = count(usage.cachedTokens)
  const cached = cachedRaw > prompt ? prompt : cachedRaw
  const writesRaw = count(usage.cacheWriteTokens)
  const writes = writesRaw > prompt - cached ? prompt - cached : writesRaw
  const writes1hRaw = count(usage.cacheWrite1hTokens)
  const writes1h = writes1hRaw > writes ? writes : writes1hRaw
  const requests = usage.requests === undefined ? 1n : count(usage.requests)
  const sum =
    (prompt - cached - writes) * nano.inputPerM +
    cached * nano.cachedInputPerM +
    (writes - writes1h) * nano.cacheWritePerM +
    writes1h * nano.cacheWrite1hPerM +
    count(usage.completionTokens) * nano.outputPerM +
    (count(usage.images) * nano.perImage + requests * nano.perRequest) * TOKENS_PER_PRICE_UNIT
  return {
    listNano: toSafeNumber(divRound(sum, TOKENS_PER_PRICE_UNIT)),
    chargedNano: toSafeNumber(divRound(sum * ratesNano, TOKENS_PER_PRICE_UNIT * NANO)),
  }
}
