// Settlements with money followed until Redis has taken them (SPEC §11, books.ts): sent again
// while they fail (the settle script applies each once: its open hold is the ticket), a charge
// written meanwhile listed by no retry and its listing taken off only after the settlement that
// lists it, and what this node should have listed kept, for books.ts to list again after Redis
// lost it.
import type { Clock } from '../shared/clock'
import type { Logger } from '../shared/log'
import type { SharedLimits, SharedReservation } from './limits'

export type Listing = {
  open: Array<{ callId: string; accountId: number; holdNano: number }>
  costs: Array<{ callId: string; accountId: number; costNano: number }>
}

/**
 * A settlement followed until Redis takes it: the call's reservation, what it ended with, and
 * whether its charge is already in the database (then it lists no cost, and its listing is taken
 * off once the settlement is in).
 */
type Pending = {
  r: SharedReservation
  release: boolean
  tokens: number
  costNano: number
  written: boolean
  /** When its first attempt failed (0 until then). */
  sinceMs: number
  /** The call's account and hold (the reservation's are cleared once sent). */
  accountId: number
}
const RETRY_MS = 1_000
/** Settlements kept for retry at most; beyond, the account's counter is dropped (opts.drop). */
const MAX_RETRIES = 100_000

export type Settlements = {
  /** A call admitted with money: listed until it settles. */
  admitted(r: SharedReservation): void
  settle(r: SharedReservation, actualTokens: number, costNano: number): void
  release(r: SharedReservation): void
  /**
   * The ledger wrote these calls' charges: their listed costs go (`written`), those of calls whose
   * settlement Redis has not taken yet once it has, and a retry lists none.
   */
  flushed(requestIds: readonly string[]): void
  /**
   * What this node should have listed in Redis now: its admitted calls' open holds and the costs
   * its settlements listed that are not written yet (books.ts lists them again after Redis lost
   * them, or after this node was taken for dead).
   */
  listing(): Listing
  /** Settlements with money that Redis has not taken yet (sent again every second). */
  readonly retrying: number
  close(): void
}

export function createSettlements(opts: {
  limits: SharedLimits
  clock: Clock
  log: Logger
  /** A settlement or release Redis did not take (counted; Redis unreachable switches the gate). */
  failed: (e: unknown) => void
  written?: (requestIds: readonly string[]) => void
  drop?: (accountId: number) => void
  retryForMs?: number
}): Settlements {
  const { limits, log } = opts
  // A settlement with money is followed until Redis has taken it, and sent again while it fails:
  // the script applies it once (its open hold is the ticket), so a lost reply sent twice changes
  // nothing. A charge written meanwhile is then listed by no retry, and its listing is taken off
  // only after the settlement that lists it (an earlier removal would find nothing to remove).
  const settling = new Map<string, Pending>()
  const retries = new Map<string, Pending>()
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  // Admitted calls holding money, and costs listed and not written yet: what listing() tells.
  const holding = new Map<string, SharedReservation>()
  const listedCosts = new Map<string, { accountId: number; costNano: number }>()
  const taken = (x: Pending) => {
    settling.delete(x.r.callId)
    if (retries.size) retries.delete(x.r.callId)
    if (x.written) opts.written?.([x.r.callId])
    else if (!x.release && x.costNano > 0) listedCosts.set(x.r.callId, { accountId: x.accountId, costNano: x.costNano })
  }
  const attempt = (x: Pending) => {
    const money = x.r.money
    const sent = x.release ? limits.release(x.r) : limits.settle(x.r, x.tokens, money ? x.costNano : undefined, x.written)
    return money ? sent.then(() => taken(x)) : sent
  }
  const abandon = (x: Pending) => {
    settling.delete(x.r.callId)
    retries.delete(x.r.callId)
    opts.drop?.(x.accountId)
  }
  const retryFor = opts.retryForMs ?? Infinity
  const retryAll = () => {
    if (retryTimer || !retries.size) return
    retryTimer = setTimeout(async () => {
      retryTimer = null
      const now = opts.clock.now()
      const due = [...retries.values()].filter((x) => (now - x.sinceMs > retryFor ? (abandon(x), false) : true))
      await Promise.all(due.map((x) => attempt(x).catch(() => {})))
      retryAll()
    }, RETRY_MS)
    retryTimer.unref?.()
  }
  const later = (r: SharedReservation, release: boolean, tokens: number, costNano: number) => {
    const money = r.money
    const x: Pending = { r, release, tokens, costNano, written: false, sinceMs: 0, accountId: money?.accountId ?? 0 }
    if (money) {
      holding.delete(r.callId)
      settling.set(r.callId, x)
    }
    attempt(x).catch((e) => {
      opts.failed(e)
      log.warn(`shared limits: ${release ? 'release' : 'settle'} failed`, { error: (e as Error).message })
      if (!money) return
      if (retries.size >= MAX_RETRIES) return abandon(x)
      x.sinceMs = opts.clock.now()
      retries.set(r.callId, x)
      retryAll()
    })
  }

  return {
    admitted(r) {
      if (r.money) holding.set(r.callId, r)
    },
    settle: (r, actualTokens, costNano) => later(r, false, actualTokens, costNano),
    release: (r) => later(r, true, 0, 0),
    flushed(ids) {
      const now: string[] = []
      for (const id of ids) {
        const x = settling.get(id)
        if (x) x.written = true
        // Only what this node listed: a charge that held no shared money was never listed.
        else if (listedCosts.delete(id)) now.push(id)
      }
      if (now.length) opts.written?.(now)
    },
    listing() {
      const open: Listing['open'] = []
      for (const r of holding.values()) {
        if (r.money) open.push({ callId: r.callId, accountId: r.money.accountId, holdNano: r.money.holdNano })
      }
      const costs = [...listedCosts].map(([callId, c]) => ({ callId, ...c }))
      return { open, costs }
    },
    get retrying() {
      return retries.size
    },
    close() {
      if (retryTimer) clearTimeout(retryTimer)
    },
  }
}
