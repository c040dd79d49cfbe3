// The shapes of shared limits (limits.ts): what a call asks, what it holds once admitted, and the
// denials the reserve script can give.
import type { LimitDenial } from '../limits/headers'
import type { WindowName } from '../limits/scope'
import type { ScopeLimits } from '../limits/windows'
import type { Denial } from '../shared/errors'

/** A Concurrency cap: `key` names the capped account's scope (`a:42`), its subtree's calls count. */
export type SlotCap = { key: string; cap: number; label?: string }

export type SharedReserveInput = {
  scopes: readonly ScopeLimits[]
  caps?: readonly SlotCap[]
  estTokens: number
  /** Unique per call (the request id): the member of each slot set. */
  callId: string
  nowMs: number
  /** How long a slot counts if its call never settles (its node died); default DEFAULT_LEASE_MS. */
  leaseMs?: number
  /**
   * The call's money hold, taken in the same script (holds.ts's counter and rule): admitted only
   * while money is free and `minNano` stays after `holdNano`.
   */
  money?: { accountId: number; holdNano: number; minNano: number }
}

/** What one admitted call holds in Redis: enough to settle or release it without asking again. */
export type SharedReservation = {
  readonly callId: string
  readonly atMs: number
  readonly estTokens: number
  readonly buckets: readonly string[]
  readonly slots: readonly string[]
  /** How long each slot counts from its last reservation or renewal. */
  readonly leaseMs: number
  /** Tokens now counted for the call (the estimate until settled). */
  tokens: number
  /** Whether the call still holds its slots (until its first settle, or its release). */
  open: boolean
  /** Released: the call counts nowhere any more, and settling it does nothing. */
  released: boolean
  /** The money counter and hold, until the first settle or the release moves it. */
  money: { key: string; holdNano: number; accountId: number } | null
}

/** Insufficient money (nothing was reserved): `availableNano` is what the account has free. */
export type MoneyDenial = Denial & { code: 'insufficient_balance'; availableNano: number }
/** No money counter for the account: seed it (books.seed) from the database, then reserve again. */
export type MoneyMiss = { ok: false; code: 'money_miss'; message: string }

/** One limited window of one scope after the reservation: for x-ratelimit-* headers. */
export type WindowCount = { scope: string; window: WindowName; limit: number; used: number }

export type ConcurrencyDenial = Denial & {
  code: 'concurrency_limit_exceeded'
  scope: string
  retryAfterMs: number
}

export type SharedReserveResult =
  | {
      ok: true
      reservation: SharedReservation
      counts: WindowCount[]
      /** With `money`: what the account has free after this hold. */
      availableNano?: number
    }
  | LimitDenial
  | ConcurrencyDenial
  | MoneyDenial
  | MoneyMiss
