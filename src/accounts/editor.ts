// PUT /x-users/{id} and DELETE /x-users/{id}: field changes with the parent's rules and the
// limits pushed down the subtree, re-rating, funding and deducting, delete with refunds up the
// tree. Each is one transaction; the operation log gets one row per kind of change.
import type { OpLogInput } from '../logs/repo'
import { AppError } from '../shared/errors'
import type { AccountEvent } from '../shared/events'
import { newRequestId } from '../shared/ids'
import type { Access } from './access'
import type { CardsRepo } from '../wallet/repo'
import type { Directory } from './directory-repo'
import { type AccountInput, buildPatch, CEILINGS, SELF_FIELDS } from './fields'
import { bad, checkDays, creditNano } from './values'
import { deductFrom, deleteSubtree, fund, type MoneyCtx, rerate } from '../wallet/moves'
import type { Account } from './repo'
import type { Writer } from './writer'
import { accountColumns } from './repo'
import { cardsJson, changedJson, parentJson } from './render'
import { eventOf, idsOfDna } from './tree'
import type { Holds } from '../wallet/holds'

type EditorDeps = {
  /** Reads after the commit (outside a transaction). */
  cards: CardsRepo
  directory: Directory
  access: Access
  now: () => number
  atomically: <T>(fn: (w: Writer) => Promise<T>) => Promise<T>
  unique: (w: Writer, patch: Partial<Account>, selfId?: number) => Promise<void>
  forbidRootOnly: (caller: Account, input: AccountInput) => void
  ctxFor: (ref: string, w: Writer) => MoneyCtx
  flushNow: () => Promise<unknown>
  publish: (kind: 'changed' | 'deleted', accounts: AccountEvent[]) => void
  /** Money and calls in flight per account (the wallet's holds). */
  holds: Pick<Holds, 'heldOf' | 'escrow'>
}

const usd = (nano: number) => nano / 1e9

export function createEditor(d: EditorDeps) {
  const log = (w: Writer, e: Omit<OpLogInput, 'operatorId' | 'operatorDna'>, by: Account) =>
    w.oplog.record({ ...e, operatorId: by.id, operatorDna: by.dna }, d.now())

  /** The target re-read inside the transaction, with its parent (itself for root). */
  const fresh = async (w: Writer, id: number) => {
    const a = await w.accounts.findById(id)
    if (!a) throw new AppError('not_found', `account ${id} no longer exists`)
    return a
  }

  async function update(
    caller: Account,
    ident: string,
    input: AccountInput,
    ref = newRequestId(d.now()),
  ) {
    await d.access.gate(caller)
    const found = await d.access.resolve(caller, ident)
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
    await d.flushNow()
    let changed: AccountEvent[] = []
    const out = await d.atomically(async (w) => {
      // A retried transaction starts over: nothing of a lost attempt is kept.
      changed = []
      await w.accounts.lock([caller.id, found.id, ...(found.parentId === null ? [] : [found.parentId])])
      const before = await fresh(w, found.id)
      const payer = await fresh(w, caller.id)
      const parent = before.parentId === null ? before : await fresh(w, before.parentId)
      const patch = buildPatch(input, before, parent)
      await d.unique(w, patch, before.id)
      const ctx = d.ctxFor(ref, w)
      let target = before
      if (patch.rates !== undefined && patch.rates !== before.rates) {
        const floor = await w.accounts.minChildRates(before.id)
        if (floor !== null && patch.rates > floor) {
          throw bad(
            'Rates',
            `${patch.rates} is above the Rates ${floor} of a child; raise the children first`,
          )
        }
        await rerate(ctx, before, patch.rates)
        // CreditGranted is a total in the account's units: it is re-rated with the cards.
        const granted = Math.round(((before.creditGrantedNano ?? 0) * patch.rates) / before.rates)
        await w.accounts.update(before.id, { creditGrantedNano: granted })
      }
      const fields = Object.fromEntries(
        Object.entries(patch).filter(
          ([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k as keyof Account]),
        ),
      ) as Partial<Account>
      const clamped: AccountEvent[] = []
      if (Object.keys(fields).length > 0 || x !== 0) {
        await w.accounts.update(before.id, { ...fields, updatedAt: ctx.nowMs })
        target = await fresh(w, before.id)
        for (const key of CEILINGS) {
          const v = fields[key]
          if (v === undefined || v === 0) continue
          const [[column]] = accountColumns({ [key]: v })
          clamped.push(...await w.directory.clampDescendants(before.dna, column!, v, ctx.nowMs))
        }
      }
      const ids = { targetId: before.id, targetDna: before.dna }
      const updates = changedJson(before, target)
      if (Object.keys(updates).length > 0) {
        const pushed = clamped.length
          ? { clamped: clamped.length, clampedSample: clamped.slice(0, 20).map((c) => c.name) }
          : {}
        await log(
          w,
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
        const { costNano } = await fund(ctx, payer, target, x, days)
        // CreditGranted: the total granted over the account's life (grants − deductions).
        const total = (target.creditGrantedNano ?? 0) + x
        await w.accounts.update(target.id, { creditGrantedNano: total })
        money = { CreditGranted: usd(total), Granted: usd(x), Cost: usd(costNano) }
        await log(
          w,
          {
            action: 'recharge',
            ...ids,
            details: { ref, name: target.name, amount: usd(x), cost: usd(costNano), days },
          },
          payer,
        )
      } else if (x < 0) {
        const r = await deductFrom(ctx, payer, target, -x)
        const total = (target.creditGrantedNano ?? 0) - r.takenNano
        await w.accounts.update(target.id, { creditGrantedNano: total })
        money = { CreditGranted: usd(total), Deducted: usd(r.takenNano), Refund: usd(r.refundNano) }
        const details = {
          ref,
          name: target.name,
          requested: usd(-x),
          taken: usd(r.takenNano),
          refund: usd(r.refundNano),
        }
        await log(w, { action: 'deduct', ...ids, details }, payer)
      }
      changed.push(eventOf(target), eventOf(payer), ...clamped)
      return { payer: await fresh(w, payer.id), target: await fresh(w, target.id), updates, money }
    })
    d.publish('changed', changed)
    const nowMs = d.now()
    const targetCards = await d.cards.cardsOf(out.target.id)
    const parentView = parentJson(out.payer, await d.cards.cardsOf(out.payer.id), nowMs)
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
  async function remove(caller: Account, ident: string, ref = newRequestId(d.now())) {
    await d.access.gate(caller)
    const found = await d.access.resolve(caller, ident)
    if (found.id === caller.id) throw new AppError('forbidden', 'you cannot delete yourself')
    await d.flushNow()
    const out = await d.atomically(async (w) => {
      const subtreeIds = (await w.directory.subtree(found.dna)).map((a) => a.id)
      await w.accounts.lock([caller.id, ...(found.parentId === null ? [] : [found.parentId]), ...subtreeIds])
      const top = await fresh(w, found.id)
      const before = await w.cards.cardsOf(top.id)
      const ctx = d.ctxFor(ref, w)
      const subtree = await w.directory.subtree(top.dna)
      const deleted = await deleteSubtree(ctx, subtree, w.accounts.remove, w.accounts.findById, d.holds.heldOf)
      const mine = deleted.find((x) => x.account.id === top.id)!
      await log(
          w,
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
        await fresh(w, caller.id),
      )
      return { top, before, mine, deleted, parent: await fresh(w, top.parentId!) }
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
      Parent: parentJson(out.parent, await d.cards.cardsOf(out.parent.id), nowMs),
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
