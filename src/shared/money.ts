// Money is an integer number of nano-dollars (1 USD = 10^9) everywhere inside xgate.
// Dollars exist only at the JSON edge. Integers stay exact up to 2^53 nano-USD (about $9 million).

export const NANO_PER_USD = 1_000_000_000

/** Largest amount, in USD, accepted at the JSON edge for any single balance movement. */
export const MAX_USD = 1_000_000

/** USD from JSON → nano-USD, rounded once. Throws RangeError for non-finite or out-of-range input. */
export function usdToNano(usd: number): number {
  if (!Number.isFinite(usd)) throw new RangeError('amount must be a finite number')
  if (Math.abs(usd) > MAX_USD) throw new RangeError(`amount must be at most ${MAX_USD} USD`)
  return Math.round(usd * NANO_PER_USD)
}

/** nano-USD → USD for JSON answers. */
export function nanoToUsd(nano: number): number {
  return nano / NANO_PER_USD
}

/** Multiply an amount by a ratio (Rates), rounding once to the nano-dollar. */
export function scaleNano(nano: number, ratio: number): number {
  return Math.round(nano * ratio)
}
