// The LimitsGate the proxy pipeline calls (§5): the monthly HardLimit (spend + open holds), then
// one synchronous check-and-reserve over the account's and every ancestor's windows and
// Concurrency slots (root excepted), per model too.
import type { Account, ModelLimits } from '../accounts/repo'
import { ROOT_ID } from '../shared/ids'
import type { LimitsGate, LimitRequest, LimitTicket } from '../proxy/gate'
import type { Clock } from '../shared/clock'
import type { Denial } from '../shared/errors'
import { formatUsd } from '../alerts/texts'
import { reserveTokens, type PromptCounter } from './estimate'
import { compileModelLimits, overlay, type ModelLookup, type ModelMatch } from './models'
import type { MonthlySpend } from './monthly'
import type { Limits, LimitWindows, Reservation, ScopeLimits } from './windows'
import type { SharedGate, SharedTicket } from '../cluster/gate'
import type { SlotCap } from '../cluster/limits'

export type GateOptions = {
  windows: LimitWindows
  monthly: MonthlySpend
  clock: Clock
  /** The account first, then each ancestor below root (accounts tree `limitChain`). */
  limitChain: (account: Account) => readonly Account[]
  /** The global MODEL_LIMITS, read on every call; the same object until the setting changes. */
  modelLimits: () => ModelLimits
  prompt: PromptCounter
  /** Money held by the account's calls in flight (this call's hold included). */
  heldOf?: (accountId: number) => number
  /** Several nodes: windows, Concurrency and money are checked and reserved in Redis instead. */
  shared?: SharedGate
}

/** An account in a chain whose Concurrency caps calls in flight in its subtree. */
type Cap = { id: number; cap: number; label: string }
/** What a call reserved: its windows and the concurrency slots it holds. Null: nothing. */
type Ticket = {
  reservation: Reservation | null
  caps: readonly Cap[] | null
  shared?: SharedTicket
}

/** Scopes for one requested model, and whether any of them limits tokens (then we estimate). */
type ModelPlan = { scopes: ScopeLimits[]; tokens: boolean }
/** What a chain of accounts imposes, built once per chain (a changed account makes a new chain). */
type Plan = {
  accounts: ScopeLimits[]
  caps: Cap[] | null
  /** The caps as the shared store names them (`a:{id}`). */
  slotCaps: SlotCap[]
  global: ModelLimits
  byModel: Map<string, ModelPlan>
}
/**
 * One account's own limits, shared by every chain it is in: the store sees the same limits
 * objects call after call and skips normalizing them. Dropped with the account object.
 */
type Own = {
  limits: Partial<Limits>
  lookup: ModelLookup
  byPattern: Map<string, Partial<Limits>>
}

/** Distinct requested models remembered per chain; more start the memo afresh. */
const MODELS_PER_PLAN = 32
const ADMIT: { ok: true; ticket: null } = { ok: true, ticket: null }

/** What a denial may show of whose limit bit: a caller never learns an ancestor's id or name. */
function labelOf(depth: number): string {
  return depth === 0 ? 'this account' : depth === 1 ? 'parent account' : 'ancestor account'
}

const hasTokens = (s: ScopeLimits) =>
  (s.limits.tpm ?? 0) > 0 || (s.limits.tph ?? 0) > 0 || (s.limits.tpd ?? 0) > 0
const hasAny = (l: Partial<Limits>) => Object.values(l).some((v) => v !== undefined && v > 0)
const modelLimits = (m: ModelMatch): Partial<Limits> => ({
  rpm: m.limit.rpm ?? 0,
  tpm: m.limit.tpm ?? 0,
})

/** The single-node gate: every answer synchronous, no await between check and reserve. */
export type LocalGate = Omit<LimitsGate, 'reserve'> & {
  reserve(req: LimitRequest): { ok: true; ticket: LimitTicket } | Denial
}

export function createLimitsGate(opts: GateOptions & { shared?: undefined }): LocalGate
export function createLimitsGate(opts: GateOptions): LimitsGate
export function createLimitsGate(opts: GateOptions): LimitsGate {
  const { windows, monthly, clock } = opts
  const plans = new WeakMap<readonly Account[], Plan>()
  const owns = new WeakMap<Account, Own>()
  let globalTable: ModelLimits | null = null
  let globalLookup: ModelLookup = () => undefined

  const globalOf = (table: ModelLimits): ModelLookup => {
    if (table !== globalTable) {
      globalTable = table
      globalLookup = compileModelLimits(table)
    }
    return globalLookup
  }

  const ownOf = (a: Account): Own => {
    let own = owns.get(a)
    if (!own) {
      const { rpm, rph, rpd, tpm, tph, tpd } = a
      own = {
        limits: { rpm, rph, rpd, tpm, tph, tpd },
        lookup: compileModelLimits(a.modelLimits),
        byPattern: new Map(),
      }
      owns.set(a, own)
    }
    return own
  }

  const planOf = (chain: readonly Account[]): Plan => {
    const global = opts.modelLimits()
    let plan = plans.get(chain)
    if (plan && plan.global === global) return plan
    const accounts: ScopeLimits[] = []
    const caps: Cap[] = []
    chain.forEach((a, depth) => {
      const { limits } = ownOf(a)
      if (a.id !== ROOT_ID && hasAny(limits))
        accounts.push({ key: `a:${a.id}`, limits, label: labelOf(depth) })
      if (a.id !== ROOT_ID && a.concurrency > 0)
        caps.push({ id: a.id, cap: a.concurrency, label: labelOf(depth) })
    })
    const slotCaps = caps.map((c) => ({ key: `a:${c.id}`, cap: c.cap, label: c.label }))
    plan = { accounts, caps: caps.length ? caps : null, slotCaps, global, byModel: new Map() }
    plans.set(chain, plan)
    return plan
  }

  /** MODEL_LIMITS is a per-account default for the caller; ancestors' own entries cap subtrees. */
  const modelScope = (plan: Plan, a: Account, depth: number, model: string) => {
    const own = ownOf(a)
    let m: ModelMatch | undefined
    let limits: Partial<Limits> | undefined
    if (depth === 0) {
      // The merged entry is this account's alone and is kept by the plan's memo.
      m = overlay(own.lookup(model), globalOf(plan.global)(model))
      if (m) limits = modelLimits(m)
    } else {
      m = own.lookup(model)
      if (m) {
        limits = own.byPattern.get(m.pattern)
        if (!limits) own.byPattern.set(m.pattern, (limits = modelLimits(m)))
      }
    }
    if (!m || !limits || !hasAny(limits)) return undefined
    const label = `${labelOf(depth)}, model ${m.pattern}`
    return { key: `a:${a.id}:m:${m.pattern}`, limits, label }
  }

  const modelPlan = (plan: Plan, chain: readonly Account[], model: string): ModelPlan => {
    let mp = plan.byModel.get(model)
    if (mp) return mp
    const scopes = [...plan.accounts]
    chain.forEach((a, depth) => {
      const s = a.id === ROOT_ID ? undefined : modelScope(plan, a, depth, model)
      if (s) scopes.push(s)
    })
    if (plan.byModel.size >= MODELS_PER_PLAN) plan.byModel.clear()
    mp = { scopes, tokens: scopes.some(hasTokens) }
    plan.byModel.set(model, mp)
    return mp
  }

  const hardLimit = (a: Account): Denial | undefined => {
    if (!(a.hardLimitNano > 0)) return undefined
    const spent = monthly.get(a.id)
    const held = opts.heldOf?.(a.id) ?? 0
    if (spent < a.hardLimitNano && spent + held <= a.hardLimitNano) return undefined
    const now = clock.now()
    const month = monthly.calendar.month(now)
    const resetAt = new Date(month.endMs).toISOString()
    if (spent < a.hardLimitNano) {
      // Calls in flight may still reach the limit: this one waits until they have settled.
      return {
        ok: false,
        code: 'hard_limit_reached',
        message:
          `monthly hard limit of ${formatUsd(a.hardLimitNano)} would be passed: ` +
          `${formatUsd(spent)} spent in ${month.key} and ${formatUsd(held)} held by calls in ` +
          `flight, this one included`,
        retryAfterMs: 1000,
      }
    }
    return {
      ok: false,
      code: 'hard_limit_reached',
      message:
        `monthly hard limit of ${formatUsd(a.hardLimitNano)} reached ` +
        `(${formatUsd(spent)} spent in ${month.key}); calls resume at ${resetAt}`,
      retryAfterMs: month.endMs - now,
      headers: { 'x-ratelimit-reset-month': resetAt },
    }
  }

  /** Calls in flight per capped account, its subtree's included. */
  const slots = new Map<number, number>()
  const takeSlots = (caps: readonly Cap[]): Denial | undefined => {
    for (const c of caps) {
      const n = slots.get(c.id) ?? 0
      if (n >= c.cap) {
        return {
          ok: false,
          code: 'concurrency_limit_exceeded',
          message: `${c.cap} calls in flight at once (Concurrency of ${c.label}) reached`,
          retryAfterMs: 1000,
        }
      }
    }
    for (const c of caps) slots.set(c.id, (slots.get(c.id) ?? 0) + 1)
    return undefined
  }
  const giveSlots = (caps: readonly Cap[]) => {
    for (const c of caps) {
      const n = (slots.get(c.id) ?? 0) - 1
      if (n > 0) slots.set(c.id, n)
      else slots.delete(c.id)
    }
  }
  const done = (ticket: unknown) => {
    const t = ticket as Ticket
    if (t.caps) giveSlots(t.caps)
    t.caps = null
    return t.reservation
  }

  /** Several nodes: one round trip to Redis reserves windows, slots and the money hold. */
  const sharedReserve = async (shared: SharedGate, req: LimitRequest, plan: Plan, mp: ModelPlan) => {
    if (mp.scopes.length === 0 && plan.slotCaps.length === 0 && !req.money) return ADMIT
    const r = await shared.reserve({
      accountId: req.account.id,
      scopes: mp.scopes,
      caps: plan.slotCaps,
      estTokens: mp.tokens ? reserveTokens(req.body, opts.prompt) : 0,
      callId: req.callId ?? crypto.randomUUID(),
      money: req.money,
    })
    if (!r.ok) return r
    const ticket: Ticket = { reservation: null, caps: null, shared: r.ticket }
    return { ok: true as const, ticket }
  }

  return {
    reserve(req: LimitRequest) {
      const account = req.account
      if (account.id === ROOT_ID) return ADMIT
      const denied = hardLimit(account)
      if (denied) return denied
      const chain = opts.limitChain(account)
      const plan = planOf(chain)
      const mp = modelPlan(plan, chain, req.model)
      if (opts.shared) return sharedReserve(opts.shared, req, plan, mp)
      if (mp.scopes.length === 0 && !plan.caps) return ADMIT
      const caps = plan.caps
      if (caps) {
        const busy = takeSlots(caps)
        if (busy) return busy
      }
      let reservation: Reservation | null = null
      if (mp.scopes.length > 0) {
        const est = mp.tokens ? reserveTokens(req.body, opts.prompt) : 0
        const r = windows.reserve(mp.scopes, est)
        if (!r.ok) {
          if (caps) giveSlots(caps)
          return r
        }
        reservation = r.reservation
      }
      const ticket: Ticket = { reservation, caps }
      return { ok: true, ticket }
    },
    settle(ticket, facts) {
      if (!ticket) return
      const shared = (ticket as Ticket).shared
      if (shared) return opts.shared!.settle(shared, facts.totalTokens, facts.costNano)
      const r = done(ticket)
      if (r) windows.settle(r, facts.totalTokens)
    },
    release(ticket) {
      if (!ticket) return
      const shared = (ticket as Ticket).shared
      if (shared) return opts.shared!.release(shared)
      const r = done(ticket)
      if (r) windows.release(r)
    },
    inFlightOf: (accountId) => slots.get(accountId) ?? 0,
  }
}
