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
import { createSettlements, type Settlements } from './settlements'

export type { Listing } from './settlements'

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

export type SharedGate = Pick<Settlements, 'flushed' | 'listing' | 'retrying'> & {
  reserve(req: SharedGateRequest): Promise<{ ok: true; ticket: SharedTicket } | Denial>
  settle(t: SharedTicket, actualTokens: number, costNano: number): void
  release(t: SharedTicket): void
  state(): SharedGateState
  /** Calls holding Concurrency slots now (their leases are renewed). */
  readonly leased: number
  close(): void
}


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

  const settlements = createSettlements({
    limits,
    clock: opts.clock,
    log,
    failed(e) {
      st.settleFailures++
      if (e instanceof RedisUnavailableError) down(e)
    },
    written: opts.written,
    drop: opts.drop,
    retryForMs: opts.retryForMs,
  })

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
        settlements.admitted(r.reservation)
        return { ok: true, ticket: { shared: r.reservation, fallback: null } }
      } catch (e) {
        if (!(e instanceof RedisUnavailableError)) throw e
        down(e)
        // Redis may have applied it and lost the reply: released once it answers (applied once,
        // or not at all, as its open hold says).
        const lost = limits.unanswered(asked)
        if (lost) settlements.release(lost)
        return viaFallback(req)
      }
    },
    settle(t, actualTokens, costNano) {
      if (t.fallback) fallback.settle(t.fallback, actualTokens)
      const r = t.shared
      if (!r) return
      open.delete(r)
      settlements.settle(r, actualTokens, costNano)
    },
    release(t) {
      if (t.fallback) fallback.release(t.fallback)
      if (!t.shared) return
      open.delete(t.shared)
      settlements.release(t.shared)
    },
    flushed: (ids) => settlements.flushed(ids),
    listing: () => settlements.listing(),
    state: () => ({ ...st }),
    get retrying() {
      return settlements.retrying
    },
    get leased() {
      return open.size
    },
    close() {
      clearInterval(timer)
      settlements.close()
    },
  }
}
