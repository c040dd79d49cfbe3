// The one shape the limits gate can call for check-and-reserve, whichever store answers: the
// shared store (limits.ts, Redis, async) or this node's memory (fallback.ts: synchronous, every
// limit ÷ NODES while Redis is away; with nodes = 1 the single-node rule).
import type { LimitDenial } from '../limits/headers'
import type { MoneyUnavailable } from './fallback'
import type { ConcurrencyDenial, MoneyDenial, MoneyMiss, SharedReserveInput } from './limits'

export type MaybePromise<T> = T | Promise<T>

export type StoreReserveResult<R> =
  | { ok: true; reservation: R }
  | LimitDenial
  | ConcurrencyDenial
  | MoneyDenial
  | MoneyMiss
  | MoneyUnavailable

export type LimitStore<R> = {
  reserve(input: SharedReserveInput): MaybePromise<StoreReserveResult<R>>
  settle(r: R, actualTokens: number, costNano?: number): MaybePromise<void>
  release(r: R): MaybePromise<void>
}
