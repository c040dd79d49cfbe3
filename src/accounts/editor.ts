// PUT /x-users/{id} and DELETE /x-users/{id}: field changes with the parent's rules and the
// limits pushed down the subtree, re-rating, funding and deducting, delete with refunds up the
// tree. Each is one transaction; the operation log gets one row per kind of change.
import type { Db } from '../db/tx'
import type { OpLogInput, OpLogRepo } from '../logs/repo'
import { AppError } from '../shared/errors'
import type { AccountEvent } from '../shared/events'
import { newRequestId } from '../shared/ids'
import type { Access } from './access'
import type { CardsRepo } from '../wallet/repo'
import type { Directory } from './directory-repo'
import { type AccountInput, buildPatch, CEILINGS, SELF_FIELDS } from './fields'
import { bad, checkDays, creditNano } from './values'
import { deductFrom, deleteSubtree, fund, type MoneyCtx, rerate } from '../wallet/moves'
import type { Account, AccountsRepo } from './repo'
import { accountColumns } from './repo'
import { cardsJson, changedJson, parentJson } from './render'
import { eventOf, idsOfDna } from './tree'
import type { Holds } from '../wallet/holds'

type EditorDeps = {
  db: Db
  repo: AccountsRepo
  oplog: OpLogRepo
  cards: CardsRepo
  directory: Directory
  access: Access
  now: () => number
  atomically: <T>(fn: () => T) => T
  unique: (patch: Partial<Account>, selfId?: number) => void
  forbidRootOnly: (caller: Account, input: AccountInput) => void
  ctxFor: (ref: string) => MoneyCtx
  flushNow: () => void
  publish: (kind: 'changed' | 'deleted', accounts: AccountEvent[]) => void
  /** Money and calls in flight per account (the wallet's holds). */
  holds: Pick<Holds, 'heldOf' | 'escrow'>
}

const usd = (nano: number) => nano / 1e9

export function createEditor(d: EditorDeps) {
  const log = (e: Omit<OpLogInput, 'operatorId' | 'operatorDna'>, by: Account) =>
    d.oplog.record({ ...e, operatorId: by.id, operatorDna: by.dna }, d.now())

  /** The target re-read inside the transaction, with its parent (itself for root). */
  const fresh = (id: number) => {
    const a = d.repo.findById(id)
    if (!a) throw new AppError('not_found', `account ${id} no longer exists`)
    return a
  }

  function update(
    caller: Account,
    ident: string,
    input: AccountInput,
    ref = newRequestId(d.now()),
  ) {
    d.access.gate(caller)
    const found = d.access.resolve(caller, ident)
    if (found.id === caller.id) {
      const other = Object.keys(input).find((k) => !(SELF_FIELDS as readonly string[]).includes(k))
      if (other)
        throw new AppError(
          'forbidden',
          `${other}: on yourself you may change only Alias and BillingEmail`,
          { param: other },
        )
    }
    d.forbidRootOnly(caller, input)
    const x = input.CreditGranted === undefined ? 0 : creditNano(input.CreditGranted)
    if (x === 0 && input.CreditGranted !== undefined && input.CreditGranted !== 0) {
      throw bad('CreditGranted', `${input.CreditGranted} USD rounds to 0 nano-dollars: nothing to move`)
    }
    const days = checkDays(input.Days, x)
    if (Object.keys(input).length === 0) throw bad('body', 'no field to change')
    d.flushNow()
    const changed: AccountEvent[] = []
    const out = d.atomically(() => {
      const before = fresh(found.id)
      const payer = fresh(caller.id)
      const parent = before.parentId === null ? before : fresh(before.parentId)
      const patch = buildPatch(input, before, parent)
      d.unique(patch, before.id)
      const ctx = d.ctxFor(ref)
      let target = before
      if (patch.rates !== undefined && patch.rates !== before.rates) {
        const floor = d.repo.minChildRates(before.id)
        if (floor !== null && patch.rates > floor) {
          throw bad(
            'Rates',
            `${patch.rates} is above the Rates ${floor} of a child; raise the children first`,
          )
        }
        rerate(ctx, before, patch.rates)
        // CreditGranted is a total in the account's units: it is re-rated with the cards.
        const granted = Math.round(((before.creditGrantedNano ?? 0) * patch.rates) / before.rates)
        d.repo.update(before.id, { creditGrantedNano: granted })
      }
      const fields = Object.fromEntries(
        Object.entries(patch).filter(
          ([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k as keyof Account]),
        ),
      ) as Partial<Account>
      const clamped: AccountEvent[] = []
      if (Object.keys(fields).length > 0 || x !== 0) {
        d.repo.update(before.id, { ...fields, updatedAt: ctx.nowMs })
        target = fresh(before.id)
        for (const key of CEILINGS) {
          const v = fields[key]
          if (v === undefined || v === 0) continue
          const [[column]] = accountColumns({ [key]: v })
          clamped.push(...d.directory.clampDescendants(before.dna, column!, v, ctx.nowMs))
        }
      }
      const ids = { targetId: before.id, targetDna: before.dna }
      const updates = changedJson(before, target)
      if (Object.keys(updates).length > 0) {
        const pushed = clamped.length
          ? { clamped: clamped.length, clampedSample: clamped.slice(0, 20).map((c) => c.name) }
          : {}
        log(
          {
            action: 'update_user',
            ...ids,
            details: { ref, name: target.name, changes: updates, ...pushed },
          },
          payer,
        )
      }
      let money: Record<string, number> = {}
      if (x > 0) {
        const { costNano } = fund(ctx, payer, target, x, days)
        // CreditGranted: the total granted over the account's life (grants − deductions).
        const total = (target.creditGrantedNano ?? 0) + x
        d.repo.update(target.id, { creditGrantedNano: total })
        money = { CreditGranted: usd(total), Granted: usd(x), Cost: usd(costNano) }
        log(
          {
            action: 'recharge',
            ...ids,
            details: { ref, name: target.name, amount: usd(x), cost: usd(costNano), days },
          },
          payer,
        )
      } else if (x < 0) {
        const r = deductFrom(ctx, payer, target, -x)
        const total = (target.creditGrantedNano ?? 0) - r.takenNano
        d.repo.update(target.id, { creditGrantedNano: total })
        money = { CreditGranted: usd(total), Deducted: usd(r.takenNano), Refund: usd(r.refundNano) }
        const details = {
          ref,
          name: target.name,
          requested: usd(-x),
          taken: usd(r.takenNano),
          refund: usd(r.refundNano),
        }
        log({ action: 'deduct', ...ids, details }, payer)
      }
      changed.push(eventOf(target), eventOf(payer), ...clamped)
      return { payer: fresh(payer.id), target: fresh(target.id), updates, money }
    })
    d.publish('changed', changed)
    const nowMs = d.now()
    const targetCards = d.cards.cardsOf(out.target.id)
    const parentView = parentJson(out.payer, d.cards.cardsOf(out.payer.id), nowMs)
    const tv = parentJson(out.target, targetCards, nowMs)
    return {
      Action: 'update' as const,
      Parent: parentView,
      User: {
        ID: out.target.id,
        Name: out.target.name,
        Updates: {
          ...out.updates,
          ...out.money,
          Balance: tv.Balance,
          CreditBalance: tv.CreditBalance,
        },
      },
    }
  }

  /** DELETE /x-users/{id}: the target and its subtree; refunds flow up to the target's parent. */
  function remove(caller: Account, ident: string, ref = newRequestId(d.now())) {
    d.access.gate(caller)
    const found = d.access.resolve(caller, ident)
    if (found.id === caller.id) throw new AppError('forbidden', 'you cannot delete yourself')
    d.flushNow()
    const out = d.atomically(() => {
      const top = fresh(found.id)
      const before = d.cards.cardsOf(top.id)
      const ctx = d.ctxFor(ref)
      const subtree = d.directory.subtree(top.dna)
      const deleted = deleteSubtree(ctx, subtree, d.repo.remove, d.repo.findById, d.holds.heldOf)
      const mine = deleted.find((x) => x.account.id === top.id)!
      log(
        {
          action: 'delete_user',
          targetId: top.id,
          targetDna: top.dna,
          details: {
            ref,
            name: top.name,
            balance: usd(mine.balanceNano),
            held: usd(mine.heldNano),
            refund: usd(mine.refundNano),
            descendants: deleted.length - 1,
            deletedSample: deleted.slice(0, 50).map((x) => x.account.name),
          },
        },
        fresh(caller.id),
      )
      return { top, before, mine, deleted, parent: fresh(top.parentId!) }
    })
    // Calls still in flight settle against their holds; the rest goes up when the last one ends.
    const heirs = idsOfDna(out.top.dna).slice(0, -1).reverse()
    for (const x of out.deleted) d.holds.escrow(x.account, heirs, ref, x.heldNano)
    d.publish(
      'deleted',
      out.deleted.map((x) => eventOf(x.account)),
    )
    d.publish('changed', [eventOf(out.parent)])
    const nowMs = d.now()
    return {
      Action: 'delete' as const,
      Parent: parentJson(out.parent, d.cards.cardsOf(out.parent.id), nowMs),
      User: {
        ID: out.top.id,
        Name: out.top.name,
        Rates: out.top.rates,
        Balance: usd(out.mine.balanceNano),
        CreditBalance: cardsJson(out.before),
        Refund: usd(out.mine.refundNano),
        Held: usd(out.mine.heldNano),
        Deleted: out.deleted.length,
      },
    }
  }

  return { update, remove }
}
