// The exact nano-USD cost of one call from its price and usage: one rounding of the list price
// and one of the charged price. Runs per call: no allocation beyond the result.
import { NANO_PER_USD } from '../shared/money'
import type { Cost, NanoPrice, ResolvedPrice, Usage } from './pricing'

const TOKENS_PER_PRICE_UNIT = 1_000_000n
const NANO = BigInt(NANO_PER_USD)

/** Clamps a reported count to a non-negative integer; garbage from upstream counts as 0. */
function count(n: number | undefined): bigint {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? BigInt(Math.floor(n)) : 0n
}

/** Rounds num/den half up; both are non-negative. */
export function divRound(num: bigint, den: bigint): bigint {
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
