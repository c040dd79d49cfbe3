// The limits gate's store when several nodes share state (SPEC §11): one script call admits a call
// against every window, Concurrency cap and the account's money counter in Redis, all or nothing;
// one after it settles. Redis unreachable → the failure policy: money fails closed (503
// store_unavailable), limits fall back to this node's memory at limit ÷ NODES; the next call that
// reaches Redis is back on the shared state.
import type { ScopeLimits } from '../limits/windows'
import type { Clock } from '../shared/clock'
import type { Denial } from '../shared/errors'
import type { Logger } from '../shared/log'
import type { FallbackLimits, FallbackReservation } from './fallback'
import type { SharedHolds } from './holds'
import type { SharedLimits, SharedReservation, SharedReserveInput, SlotCap } from './limits'
import { RedisUnavailableError } from './redis'

/** What one admitted call holds: in Redis, or in this node's fallback memory. */
export type SharedTicket = {
  shared: SharedReservation | null
  fallback: FallbackReservation | null
}

export type SharedGateRequest = {
  accountId: number
  scopes: readonly ScopeLimits[]
  caps: readonly SlotCap[]
  estTokens: number
  /** The request id: the call's member in every slot set. */
  callId: string
  /** The call's hold (book units) and the least it must leave; absent for root. */
  money?: { holdNano: number; minNano: number }
}

export type SharedGateState = {
  mode: 'shared' | 'fallback'
  /** Calls admitted by the fallback limits, refused for money, and settlements Redis missed. */
  fallbackCalls: number
  moneyRefused: number
  settleFailures: number
  lastError: string | null
}

export type SharedGate = {
  reserve(req: SharedGateRequest): Promise<{ ok: true; ticket: SharedTicket } | Denial>
  settle(t: SharedTicket, actualTokens: number, costNano: number): void
  release(t: SharedTicket): void
  /**
   * The ledger wrote these calls' charges: their listed costs go (`written`), those of calls whose
   * settlement Redis has not taken yet once it has, and a retry lists none.
   */
  flushed(requestIds: readonly string[]): void
  state(): SharedGateState
  /** Settlements with money that Redis has not taken yet (retried every RETRY_MS). */
  readonly retrying: number
  /**
   * What this node should have listed in Redis now: its admitted calls' open holds and the costs
   * its settlements listed that are not written yet (books.ts lists them again after Redis lost
   * them, or after this node was taken for dead).
   */
  listing(): Listing
  /** Calls holding Concurrency slots now (their leases are renewed). */
  readonly leased: number
  close(): void
}

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
  /** When it was first sent. */
  sinceMs: number
  /** The call's account and hold (the reservation's are cleared once sent). */
  accountId: number
}
const RETRY_MS = 1_000
/** Settlements kept for retry at most; beyond, the books' reconciliation corrects the counter. */
const MAX_RETRIES = 100_000

const CLOSED: Denial = {
  ok: false,
  code: 'store_unavailable',
  message: 'the shared store that holds balances (Redis) is unreachable; try again shortly',
  retryAfterMs: 5_000,
}

export function createSharedGate(opts: {
  limits: SharedLimits
  holds: SharedHolds
  fallback: FallbackLimits
  clock: Clock
  log: Logger
  /**
   * How long a slot counts if its node dies holding it: the leases of calls still running are
   * renewed every third of it.
   */
  leaseMs: number
  /**
   * Makes a missing money counter from the database (books.ts): false when it could not now.
   */
  seed: (accountId: number) => Promise<boolean>
  /** The account's counter missed an admin move and is not dropped yet (sync.ts): money closed. */
  stale?: (accountId: number) => boolean
  /** These calls' charges are written and their settlements taken: their listed costs go (books.ts). */
  written?: (requestIds: readonly string[]) => void
  /**
   * A settlement that could not be followed (too many waiting, or older than `retryForMs`, past
   * which its node's reaped holds are forgotten): the account's counter is dropped, to be made
   * again from the database, its calls waiting until Redis has taken that (sync.ts).
   */
  drop?: (accountId: number) => void
  retryForMs?: number
}): SharedGate {
  const { limits, fallback, log } = opts
  const st: SharedGateState = {
    mode: 'shared',
    fallbackCalls: 0,
    moneyRefused: 0,
    settleFailures: 0,
    lastError: null,
  }

  const down = (e: unknown) => {
    if (st.mode === 'shared') log.warn('Redis unreachable: money refused, limits ÷ NODES on this node', { error: (e as Error).message })
    st.mode = 'fallback'
    st.lastError = (e as Error).message
  }
  const up = () => {
    if (st.mode === 'fallback') log.info('Redis reachable again: shared limits and balances')
    st.mode = 'shared'
  }

  /** Calls that hold no money (free endpoints, unpriced models) go on at limit ÷ NODES. */
  const viaFallback = (req: SharedGateRequest): { ok: true; ticket: SharedTicket } | Denial => {
    if (req.money && req.money.holdNano > 0) {
      st.moneyRefused++
      return CLOSED
    }
    const r = fallback.reserve({ scopes: req.scopes, caps: req.caps, estTokens: req.estTokens })
    if (!r.ok) return r
    st.fallbackCalls++
    return { ok: true, ticket: { shared: null, fallback: r.reservation } }
  }

  // Calls holding slots: renewed while they run, so a lease can be short and a dead node's
  // slots free soon.
  const open = new Set<SharedReservation>()
  let renewing = false
  const renewAll = async () => {
    if (renewing) return
    renewing = true
    try {
      const now = opts.clock.now()
      await Promise.all(
        [...open].map((r) =>
          limits.renew(r, now).then(
            (held) => {
              if (!held) log.warn('a call outlived its Concurrency slot lease', { callId: r.callId })
            },
            () => {},
          ),
        ),
      )
    } finally {
      renewing = false
    }
  }
  const timer = setInterval(() => open.size && void renewAll(), Math.max(100, Math.floor(opts.leaseMs / 3)))
  timer.unref?.()

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
    retries.delete(x.r.callId)
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
    const id = x.r.money?.accountId
    if (id !== undefined) opts.drop?.(id)
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
  const later = (x: Omit<Pending, 'accountId'>) => {
    const money = !!x.r.money
    holding.delete(x.r.callId)
    const p: Pending = { ...x, accountId: x.r.money?.accountId ?? 0 }
    if (money) settling.set(p.r.callId, p)
    void attempt(p).catch((e) => {
      st.settleFailures++
      if (e instanceof RedisUnavailableError) down(e)
      log.warn(`shared limits: ${x.release ? 'release' : 'settle'} failed`, { error: (e as Error).message })
      if (!money) return
      if (retries.size >= MAX_RETRIES) return abandon(p)
      retries.set(p.r.callId, p)
      retryAll()
    })
  }

  return {
    async reserve(req) {
      const input: SharedReserveInput = {
        scopes: req.scopes,
        caps: req.caps,
        estTokens: req.estTokens,
        callId: req.callId,
        nowMs: opts.clock.now(),
        leaseMs: opts.leaseMs,
        money: req.money && { accountId: req.accountId, ...req.money },
      }
      if (req.money && req.money.holdNano > 0 && opts.stale?.(req.accountId)) return CLOSED
      let asked = input
      try {
        let r = await limits.reserve(input)
        if (!r.ok && r.code === 'money_miss') {
          if (!(await opts.seed(req.accountId))) return CLOSED
          asked = { ...input, nowMs: opts.clock.now() }
          r = await limits.reserve(asked)
          if (!r.ok && r.code === 'money_miss') return CLOSED
        }
        up()
        if (!r.ok) return r
        if (r.reservation.slots.length) open.add(r.reservation)
        if (r.reservation.money) holding.set(r.reservation.callId, r.reservation)
        return { ok: true, ticket: { shared: r.reservation, fallback: null } }
      } catch (e) {
        if (!(e instanceof RedisUnavailableError)) throw e
        down(e)
        // Redis may have applied it and lost the reply: released once it answers (applied once,
        // or not at all, as its open hold says).
        const lost = limits.unanswered(asked)
        if (lost) later({ r: lost, release: true, tokens: 0, costNano: 0, written: false, sinceMs: opts.clock.now() })
        return viaFallback(req)
      }
    },
    settle(t, actualTokens, costNano) {
      if (t.fallback) fallback.settle(t.fallback, actualTokens)
      const r = t.shared
      if (!r) return
      open.delete(r)
      later({ r, release: false, tokens: actualTokens, costNano, written: false, sinceMs: opts.clock.now() })
    },
    release(t) {
      if (t.fallback) fallback.release(t.fallback)
      if (!t.shared) return
      open.delete(t.shared)
      later({ r: t.shared, release: true, tokens: 0, costNano: 0, written: false, sinceMs: opts.clock.now() })
    },
    flushed(ids) {
      const now: string[] = []
      for (const id of ids) {
        const x = settling.get(id)
        if (x) x.written = true
        else {
          listedCosts.delete(id)
          now.push(id)
        }
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
    state: () => ({ ...st }),
    get retrying() {
      return retries.size
    },
    get leased() {
      return open.size
    },
    close() {
      clearInterval(timer)
      if (retryTimer) clearTimeout(retryTimer)
    },
  }
}
