// Limit windows, concurrency slots and (optionally) the money hold shared by every node through
// Redis (SPEC §5, §11): one script call per request checks and reserves all that applies, all or
// nothing; one after it settles tokens, slots and money. Same scopes, limits and denials as
// limits/windows.ts and the wallet's holds.
import type { Calendar } from '../limits/daykey'
import { wholeCount, type WindowName } from '../limits/scope'
import { denialOf, moneyDenial, NAMES, scopeParts, type Group } from './limit-groups'
import { RENEW, RESERVE } from './limit-scripts'
import { settleBatcher } from './batch'
import { createLimitReads } from './limit-reads'
import { listedKey, moneyKey, nano, openHoldsKey, reapedKey, unflushedKey } from './holds'
import type { Redis } from './redis'
import type { SharedReservation, SharedReserveInput, SharedReserveResult, WindowCount } from './limit-types'

export { HOUR_MS, MINUTE_MS } from './limit-groups'

export type {
  ConcurrencyDenial,
  MoneyDenial,
  MoneyMiss,
  SharedReservation,
  SharedReserveInput,
  SharedReserveResult,
  SlotCap,
  WindowCount,
} from './limit-types'

export type SharedLimits = {
  reserve(input: SharedReserveInput): Promise<SharedReserveResult>
  /**
   * Replaces the estimate with the real tokens, frees the slots and gives back the hold less
   * `costNano` (required while money is held), listing the cost as this node's unflushed one
   * unless `flushed` (its charge is already in the database). Again replaces the tokens again.
   * When it throws (Redis unreachable) the reservation is as before, so it may be settled again:
   * with money held, Redis applies it once (the open hold is its ticket); a slot left behind
   * frees itself with its lease, a bucket with its TTL.
   */
  settle(r: SharedReservation, actualTokens: number, costNano?: number, flushed?: boolean): Promise<void>
  /** The call never reached upstream: takes back its request, its tokens, slots and hold. */
  release(r: SharedReservation): Promise<void>
  /**
   * A reserve whose reply was lost (Redis did not answer in time) may still have been applied:
   * the reservation it would have made, to release once Redis answers. Only one holding money
   * (its open hold makes the release apply once, or not at all); null for the others.
   */
  unanswered(input: SharedReserveInput): SharedReservation | null
  /**
   * Moves the call's slot leases to `nowMs` + its lease: a long call renews while it runs, so the
   * lease can be short and a dead node's slots free soon. False when a slot had already expired.
   */
  renew(r: SharedReservation, nowMs: number): Promise<boolean>
  /** Calls holding a slot of a capped scope now, on every node (leases not yet run out). */
  slotsInUse(scopeKey: string, nowMs: number): Promise<number>
  /** Current count of each window of a scope (0 where nothing is counted). */
  usage(scopeKey: string, nowMs: number): Promise<Record<WindowName, number>>
}

/**
 * Slots of a node that died free themselves after this long: longer than any call lasts unless
 * the call renews its lease as it runs.
 */
export const DEFAULT_LEASE_MS = 15 * 60_000
export function createSharedLimits(opts: {
  redis: Redis
  calendar: Calendar
  /** This process (node.ts): whose open holds and unflushed costs its calls list (books.ts). */
  instance?: string
  leaseMs?: number
  /**
   * A money counter untouched this long (no admission, no settlement) is dropped, to be made
   * again from the books on next use (holds.ts); longer than any call lasts. 0 or absent: kept.
   */
  quietMs?: number
}): SharedLimits {
  const { redis, calendar } = opts
  const p = redis.prefix
  const slotKey = (scope: string) => `${p}c:${scope}`
  const instance = opts.instance ?? 'local'
  const openKey = openHoldsKey(p, instance)
  const costKey = unflushedKey(p, instance)
  const reapKey = reapedKey(p, instance)
  const quietMs = Math.max(0, Math.floor(opts.quietMs ?? 0))
  const settleOne = settleBatcher(redis, quietMs)

  /** Request and token deltas, the slots if still held, the money delta if any: one script with the other calls ending now. */
  const settleWith = async (
    r: SharedReservation,
    dr: number,
    dt: number,
    slots: boolean,
    money: { key: string; holdNano: number; costNano: number; listNano: number; accountId: number } | null,
  ) => {
    const buckets = dr !== 0 || dt !== 0 ? r.buckets : []
    const slotKeys = slots ? r.slots : []
    // Present even when nothing moves: settling keeps the counter alive (its quiet time) and
    // closes the open hold.
    if (!buckets.length && !slotKeys.length && !money) return
    const keys = [...buckets, ...slotKeys]
    if (money) keys.push(money.key, openKey, costKey, reapKey, listedKey(p, money.accountId))
    const args = [String(buckets.length), String(dr), String(dt), r.callId, String(slotKeys.length)]
    if (money) {
      args.push('1', String(money.holdNano), String(money.costNano), String(money.listNano), String(money.accountId))
    } else args.push('0', '0', '0', '0', '0')
    await settleOne({ keys, args })
  }

  const partOf = scopeParts(calendar, p)

  return {
    async reserve(input) {
      const now = Math.floor(input.nowMs)
      const est = wholeCount(input.estTokens)
      let groups: Group[] = []
      const keys: string[] = []
      const groupArgs: string[] = []
      const seen = input.scopes.length > 1 ? new Set<string>() : null
      for (const s of input.scopes) {
        if (seen) {
          if (seen.has(s.key)) continue
          seen.add(s.key)
        }
        const part = partOf(s, now)
        groups = groups.length ? groups.concat(part.groups) : part.groups
        for (const k of part.keys) keys.push(k)
        for (const a of part.args) groupArgs.push(a)
      }
      const caps = (input.caps ?? []).filter((c) => c.cap > 0)
      const leaseMs = Math.max(1, Math.floor(input.leaseMs ?? opts.leaseMs ?? DEFAULT_LEASE_MS))
      const args = [
        String(now),
        String(groups.length),
        String(caps.length),
        String(est),
        input.callId,
        String(leaseMs),
        input.money ? '1' : '0',
      ]
      for (const a of groupArgs) args.push(a)
      for (const c of caps) {
        keys.push(slotKey(c.key))
        args.push(String(Math.floor(c.cap)))
      }
      const m = input.money
      if (m) {
        keys.push(moneyKey(p, m.accountId), openKey, listedKey(p, m.accountId))
        args.push(nano('holdNano', m.holdNano, { min: 0 }), nano('minNano', m.minNano), String(quietMs))
        args.push(String(m.accountId))
      }
      const reply = (await redis.run(RESERVE, keys, args)) as (number | string)[]
      if (reply[0] === 0) {
        if (reply[1] === 'miss') {
          return {
            ok: false,
            code: 'money_miss',
            message: `no money counter for account ${m!.accountId}`,
          }
        }
        if (reply[1] === 'm') return moneyDenial(m!, Number(reply[2]))
        return denialOf(reply, groups, caps)
      }
      const counts: WindowCount[] = []
      groups.forEach((g, i) => {
        for (const f of [0, 1] as const) {
          if (g.limits[f] <= 0) continue
          counts.push({
            scope: g.scope,
            window: NAMES[g.kind][f],
            limit: g.limits[f],
            used: Number(reply[2 + 2 * i + f]),
          })
        }
      })
      const reservation: SharedReservation = {
        callId: input.callId,
        atMs: now,
        estTokens: est,
        buckets: groups.map((g) => g.cur),
        slots: caps.map((c) => slotKey(c.key)),
        leaseMs,
        tokens: est,
        open: true,
        released: false,
        money: m ? { key: moneyKey(p, m.accountId), holdNano: m.holdNano, accountId: m.accountId } : null,
      }
      const availableNano = m ? Number(reply[1]) : undefined
      return { ok: true, reservation, counts, availableNano }
    },

    async settle(r, actualTokens, costNano, flushed = false) {
      if (r.released) return
      const actual = wholeCount(actualTokens)
      const { tokens, open, money } = r
      if (money && costNano === undefined)
        throw new RangeError('costNano is required: money is held')
      const cost = money ? Number(nano('costNano', costNano!, { min: 0 })) : 0
      const give = money && {
        key: money.key,
        holdNano: money.holdNano,
        costNano: cost,
        listNano: flushed ? 0 : cost,
        accountId: money.accountId,
      }
      r.tokens = actual
      r.open = false
      r.money = null
      try {
        await settleWith(r, 0, actual - tokens, open, give)
      } catch (e) {
        // Unknown to Redis as far as we know: the caller may settle again.
        Object.assign(r, { tokens, open, money })
        throw e
      }
    },

    async release(r) {
      if (r.released) return
      const { tokens, open, money } = r
      Object.assign(r, { released: true, open: false, tokens: 0, money: null })
      try {
        const give = money && { key: money.key, holdNano: money.holdNano, costNano: 0, listNano: 0, accountId: money.accountId }
        await settleWith(r, -1, -tokens, open, give)
      } catch (e) {
        Object.assign(r, { released: false, open, tokens, money })
        throw e
      }
    },

    unanswered(input) {
      const m = input.money
      if (!m) return null
      const now = Math.floor(input.nowMs)
      const buckets = new Set<string>()
      for (const s of input.scopes) for (const g of partOf(s, now).groups) buckets.add(g.cur)
      const est = wholeCount(input.estTokens)
      return {
        callId: input.callId,
        atMs: now,
        estTokens: est,
        buckets: [...buckets],
        slots: (input.caps ?? []).filter((c) => c.cap > 0).map((c) => slotKey(c.key)),
        leaseMs: Math.max(1, Math.floor(input.leaseMs ?? opts.leaseMs ?? DEFAULT_LEASE_MS)),
        tokens: est,
        open: true,
        released: false,
        money: { key: moneyKey(p, m.accountId), holdNano: m.holdNano, accountId: m.accountId },
      }
    },

    async renew(r, nowMs) {
      if (!r.open || r.slots.length === 0) return true
      const args = [String(Math.floor(nowMs) + r.leaseMs), r.callId, String(r.leaseMs)]
      return (await redis.run(RENEW, [...r.slots], args)) === 1
    },
    ...createLimitReads(redis, calendar),
  }
}
