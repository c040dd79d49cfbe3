// Admission holds (§2.3, §4): money an admitted call may still cost, set aside from its account's
// balance until the call settles. Admission checks `balance − open holds ≥ hold` and keeps the
// result at or above CALL_MIN_BALANCE, so concurrent calls never overdraw an account by more
// than one call's estimation error. In memory, one small entry per account with calls in flight.
//
// An account deleted with calls in flight becomes an escrow: its holds stay, each call settles
// against them, and what the calls leave goes to the nearest surviving ancestor when the last ends.
import type { Denial } from '../shared/errors'
import { ROOT_ID } from '../shared/ids'
import { nanoToUsd } from '../shared/money'

/** One admitted call's hold. `nano` is in the account's book units (real value × Rates). */
export type Hold = { readonly accountId: number; readonly nano: number; open: boolean }

type Entry = { heldNano: number; calls: number }

/** What a deleted account left in flight: its holds, less what its calls cost as they end. */
export type Escrow = {
  accountId: number
  name: string
  rates: number
  /** The deleted account's ancestors, nearest first (the refunds' candidates). */
  ancestorIds: readonly number[]
  /** The delete's reference: the leftover card carries it. */
  ref: string
  /** Holds at delete minus the costs of the calls that ended since (negative: they cost more). */
  leftNano: number
  calls: number
}

export type Holds = {
  /** A hold of `nano` on the account, or the 402 saying what the call needs and what is free. */
  place(accountId: number, nano: number, balanceNano: number, minNano: number): Hold | Denial
  /** A call without money at stake (root's): counted in flight, no hold. */
  track(accountId: number): Hold
  /**
   * A hold admitted elsewhere (the shared money counter of several nodes, cluster/holds.ts):
   * recorded here without a check, so this node still knows its calls' holds and escrows.
   */
  take(accountId: number, nano: number): Hold
  /** Closes a hold once the call's real cost is known (charged by the caller); idempotent. */
  settle(hold: Hold, costNano: number): void
  heldOf(accountId: number): number
  callsOf(accountId: number): number
  totals(): { heldNano: number; calls: number; accounts: number; escrows: number }
  /**
   * The account is deleted: `keptNano` of its money (its open holds, at most its balance) stays
   * with its calls in flight as an escrow (null when none are open). The escrow closes through
   * `onEscrowClosed` when its last call ends.
   */
  escrow(
    account: { id: number; name: string; rates: number },
    ancestorIds: readonly number[],
    ref: string,
    keptNano: number,
  ): Escrow | null
  isEscrowed(accountId: number): boolean
  onEscrowClosed(fn: (e: Escrow) => void | Promise<void>): void
}

const usd = (nano: number) => `$${nanoToUsd(nano).toFixed(nano % 10_000_000 === 0 ? 2 : 9)}`

export function createHolds(): Holds {
  const entries = new Map<number, Entry>()
  const escrows = new Map<number, Escrow>()
  let totalHeld = 0
  let totalCalls = 0
  let closed: (e: Escrow) => void | Promise<void> = () => {}

  const open = (accountId: number, nano: number): Hold => {
    let e = entries.get(accountId)
    if (!e) entries.set(accountId, (e = { heldNano: 0, calls: 0 }))
    e.heldNano += nano
    e.calls++
    totalHeld += nano
    totalCalls++
    return { accountId, nano, open: true }
  }

  return {
    place(accountId, nano, balanceNano, minNano) {
      const held = entries.get(accountId)?.heldNano ?? 0
      const free = balanceNano - held
      if (free > 0 && free - nano >= minNano) return open(accountId, nano)
      const min = minNano > 0 ? ` and keep ${usd(minNano)} (CALL_MIN_BALANCE)` : ''
      return {
        ok: false,
        code: 'insufficient_balance',
        message:
          `this call needs up to ${usd(nano)}${min}; ${usd(Math.max(0, free))} is free ` +
          `(balance ${usd(balanceNano)}, ${usd(held)} held by calls in flight)`,
      }
    },
    track: (accountId) => open(accountId, 0),
    take: (accountId, nano) => open(accountId, nano),
    settle(hold, costNano) {
      if (!hold.open) return
      hold.open = false
      const e = entries.get(hold.accountId)
      if (e) {
        e.heldNano -= hold.nano
        e.calls--
        totalHeld -= hold.nano
        totalCalls--
        if (e.calls === 0) entries.delete(hold.accountId)
      }
      const x = escrows.get(hold.accountId)
      if (!x) return
      x.leftNano -= costNano
      if (--x.calls > 0) return
      // Counted until the heir's money has moved (a store transaction, awaited when async).
      const settling = closed(x)
      if (settling instanceof Promise) settling.finally(() => escrows.delete(hold.accountId))
      else escrows.delete(hold.accountId)
    },
    heldOf: (id) => entries.get(id)?.heldNano ?? 0,
    callsOf: (id) => entries.get(id)?.calls ?? 0,
    totals: () => ({
      heldNano: totalHeld,
      calls: totalCalls,
      accounts: entries.size,
      escrows: escrows.size,
    }),
    escrow({ id, name, rates }, ancestorIds, ref, keptNano) {
      const e = entries.get(id)
      if (!e || e.calls === 0 || id === ROOT_ID) return null
      const x: Escrow = {
        accountId: id,
        name,
        rates,
        ancestorIds,
        ref,
        leftNano: keptNano,
        calls: e.calls,
      }
      escrows.set(id, x)
      return x
    },
    isEscrowed: (id) => escrows.has(id),
    onEscrowClosed(fn) {
      closed = fn
    },
  }
}
