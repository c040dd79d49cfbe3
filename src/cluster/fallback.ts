// The failure policy's share of a limit (SPEC §11): while Redis is unreachable each node enforces
// limit ÷ NODES (the configured node count) in its own memory, never the full limit; it comes
// back to the shared store when Redis does.
import type { LimitDenial } from '../limits/headers'
import { normalize, type Limits } from '../limits/scope'
import type { LimitWindows, Reservation, ScopeLimits } from '../limits/windows'
import type { Denial } from '../shared/errors'
import type { ConcurrencyDenial, SlotCap } from './limits'

/** Per-node limits while Redis is unreachable (SPEC §11): limit ÷ nodes, at least 1, never the full. */
export function perNodeLimits(limits: Partial<Limits>, nodes: number): Limits {
  const l = normalize(limits)
  const n = Math.max(1, Math.floor(nodes))
  const part = (v: number) => (v > 0 ? Math.max(1, Math.floor(v / n)) : 0)
  return {
    rpm: part(l.rpm),
    rph: part(l.rph),
    rpd: part(l.rpd),
    tpm: part(l.tpm),
    tph: part(l.tph),
    tpd: part(l.tpd),
  }
}

/** A capped account's Concurrency share on this node while Redis is away. */
export function perNodeCap(cap: number, nodes: number): number {
  return cap > 0 ? Math.max(1, Math.floor(cap / Math.max(1, Math.floor(nodes)))) : 0
}

/** The failure policy for money: no shared counter, no admission (503 store_unavailable). */
export type MoneyUnavailable = Denial & { code: 'store_unavailable'; retryAfterMs: number }

const MONEY_CLOSED: MoneyUnavailable = {
  ok: false,
  code: 'store_unavailable',
  message: 'the shared store that holds balances is unreachable; try again shortly',
  retryAfterMs: 5_000,
}

/** What a call holds in this node's memory while Redis is away. */
export type FallbackReservation = {
  readonly windows: Reservation | null
  readonly slots: readonly string[]
  open: boolean
}

export type FallbackLimits = {
  /** Synchronous, like the single-node gate: no await between check and reserve. */
  reserve(input: {
    scopes: readonly ScopeLimits[]
    caps?: readonly SlotCap[]
    estTokens: number
    /** Money is never held locally: a call that needs a hold fails closed (503). */
    money?: unknown
  }):
    | { ok: true; reservation: FallbackReservation }
    | LimitDenial
    | ConcurrencyDenial
    | MoneyUnavailable
  settle(r: FallbackReservation, actualTokens: number): void
  release(r: FallbackReservation): void
  /** Calls in flight on this node against a capped scope. */
  inFlight(key: string): number
}

/**
 * The per-node limiter of the failure policy, over a LimitWindows of its own (the single-node
 * store, on the node's clock): the same scopes with every limit and cap divided by `nodes`.
 */
export function createFallbackLimits(opts: {
  windows: LimitWindows
  nodes: number
}): FallbackLimits {
  const { windows, nodes } = opts
  // The store skips normalizing limits objects it has seen: keep one share object per source.
  const shares = new WeakMap<Partial<Limits>, Limits>()
  const shareOf = (l: Partial<Limits>) => {
    let s = shares.get(l)
    if (!s) shares.set(l, (s = perNodeLimits(l, nodes)))
    return s
  }
  const slots = new Map<string, number>()
  const give = (keys: readonly string[]) => {
    for (const k of keys) {
      const n = (slots.get(k) ?? 0) - 1
      if (n > 0) slots.set(k, n)
      else slots.delete(k)
    }
  }

  return {
    reserve({ scopes, caps = [], estTokens, money }) {
      if (money) return MONEY_CLOSED
      const taken: string[] = []
      for (const c of caps) {
        const cap = perNodeCap(c.cap, nodes)
        if (cap === 0) continue
        if ((slots.get(c.key) ?? 0) >= cap) {
          return {
            ok: false,
            code: 'concurrency_limit_exceeded',
            message: `${cap} calls in flight at once on this node (Concurrency of ${c.label ?? c.key} ÷ ${nodes} nodes while the shared store is unreachable) reached`,
            retryAfterMs: 1000,
            scope: c.key,
          }
        }
        taken.push(c.key)
      }
      let reservation: Reservation | null = null
      if (scopes.length > 0) {
        const r = windows.reserve(
          scopes.map((s) => ({ key: s.key, limits: shareOf(s.limits), label: s.label })),
          estTokens,
        )
        if (!r.ok) return r
        reservation = r.reservation
      }
      for (const k of taken) slots.set(k, (slots.get(k) ?? 0) + 1)
      return { ok: true, reservation: { windows: reservation, slots: taken, open: true } }
    },
    settle(r, actualTokens) {
      if (r.windows) windows.settle(r.windows, actualTokens)
      if (r.open) give(r.slots)
      r.open = false
    },
    release(r) {
      if (r.windows) windows.release(r.windows)
      if (r.open) give(r.slots)
      r.open = false
    },
    inFlight: (key) => slots.get(key) ?? 0,
  }
}
