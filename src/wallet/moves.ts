// Admin money movements between accounts (fund, deduct, re-rate, delete with refunds), built on
// the pure card arithmetic of cards.ts. Each function runs inside the caller's transaction (its
// `cards` repository is made on that transaction) and writes every card change with its ledger
// row; the cards it changes are read for update, the accounts of one move locked in id order. Root is the bank: it mints the credit it grants
// and what flows back to it (deduct, delete refunds) leaves the books; root holds no cards.
import { AppError } from '../shared/errors'
import { nanoToUsd } from '../shared/money'
import {
  balanceOf,
  convert,
  deduct,
  deductRefund,
  deleteRefund,
  fundingCost,
  grant,
  REFUND_CARD_DAYS,
  rescale,
  spend,
} from './cards'
import type { CardsRepo } from './repo'
import type { Account } from '../accounts/repo'

import { ROOT_ID } from '../shared/ids'

export type MoneyCtx = {
  cards: CardsRepo
  nowMs: number
  ref: string
  /** Money held by an account's calls in flight: not the account's to give or lose. */
  heldOf: (accountId: number) => number
  /** Calls in flight of an account. */
  callsOf: (accountId: number) => number
}

export const isRoot = (a: Pick<Account, 'id'>) => a.id === ROOT_ID

const usd = (nano: number) => `${nanoToUsd(nano)}`

/**
 * The target gets a card of `xNano` (its units) valid `days`, referenced 'recharge' without the
 * payer's name (an account never learns more of its ancestors than its DNA); the payer pays
 * X × payer.Rates / target.Rates from its own cards, never into debt (402 otherwise).
 */
export async function fund(ctx: MoneyCtx, payer: Account, target: Account, xNano: number, days: number) {
  await ctx.cards.lock([payer.id, target.id])
  let costNano = 0
  if (!isRoot(payer)) {
    costNano = fundingCost(xNano, payer.rates, target.rates)
    const cards = (await ctx.cards.cardsOf(payer.id, true))
    const held = ctx.heldOf(payer.id)
    const paid =
      balanceOf(cards, ctx.nowMs) - held >= costNano
        ? spend(cards, costNano, ctx.nowMs, { allowDebt: false })
        : null
    if (!paid?.ok) {
      const have = balanceOf(cards, ctx.nowMs)
      const busy = held > 0 ? ` (${usd(held)} of it held by your calls in flight)` : ''
      throw new AppError(
        'insufficient_balance',
        `CreditGranted: a card of ${usd(xNano)} costs you ${usd(costNano)}, your balance is ${usd(have)}${busy}`,
        { param: 'CreditGranted' },
      )
    }
    await ctx.cards.apply(payer.id, paid.changes, 'fund', ctx.ref, ctx.nowMs)
  }
  const got = grant((await ctx.cards.cardsOf(target.id, true)), xNano, ctx.nowMs, days, 'recharge')
  await ctx.cards.apply(target.id, got.changes, 'recharge', ctx.ref, ctx.nowMs)
  return { costNano }
}

/**
 * The target loses up to `xNano` (never more than its balance); the caller gets a card of
 * taken × caller.Rates / target.Rates − $0.20, valid 180 days. Nothing to take → 400.
 */
export async function deductFrom(ctx: MoneyCtx, caller: Account, target: Account, xNano: number) {
  await ctx.cards.lock([caller.id, target.id])
  const cards = (await ctx.cards.cardsOf(target.id, true))
  // Money held by the target's calls in flight stays with them.
  const held = ctx.heldOf(target.id)
  const free = Math.max(0, balanceOf(cards, ctx.nowMs) - held)
  const taken = deduct(cards, Math.min(xNano, free), ctx.nowMs)
  if (taken.takenNano === 0) {
    const busy = held > 0 ? ` (${usd(held)} is held by its calls in flight)` : ''
    throw new AppError(
      'bad_request',
      `CreditGranted: ${target.name} has no balance to deduct${busy}`,
      { param: 'CreditGranted' },
    )
  }
  await ctx.cards.apply(target.id, taken.changes, 'deduct', ctx.ref, ctx.nowMs)
  let refundNano = 0
  if (!isRoot(caller)) {
    refundNano = deductRefund(taken.takenNano, caller.rates, target.rates)
    if (refundNano > 0) {
      const cards = (await ctx.cards.cardsOf(caller.id, true))
      const got = grant(
        cards,
        refundNano,
        ctx.nowMs,
        REFUND_CARD_DAYS,
        `deduct from ${target.name}`,
      )
      await ctx.cards.apply(caller.id, got.changes, 'deduct_refund', ctx.ref, ctx.nowMs)
    }
  }
  return { takenNano: taken.takenNano, refundNano }
}

/** Rescales every card of the target by new/old Rates (amounts and balances). */
export async function rerate(ctx: MoneyCtx, target: Account, newRates: number) {
  // Calls in flight hold money in the old units and settle at the Rates they started with.
  const calls = ctx.callsOf(target.id)
  if (calls > 0) {
    throw new AppError(
      'conflict',
      `Rates: ${target.name} has ${calls} call${calls === 1 ? '' : 's'} in flight; change its Rates when they have ended`,
      { param: 'Rates' },
    )
  }
  const r = rescale((await ctx.cards.cardsOf(target.id, true)), newRates / target.rates)
  return { deltaNano: await ctx.cards.apply(target.id, r.changes, 'rerate', ctx.ref, ctx.nowMs) }
}

export type DeletedAccount = {
  account: Account
  balanceNano: number
  /** Money held by the account's calls in flight: it stays with them until they end. */
  heldNano: number
  refundNano: number
}

/**
 * Deletes `subtree` (the top account and all its descendants), deepest first. Each account's
 * live balance less what its calls in flight hold (`heldOf`), converted to its parent's units,
 * minus $0.20, becomes a parent card valid 180 days (the held part follows when the calls end,
 * see closeEscrow); a closing ledger row takes the whole card total (expired money and debt too) off the
 * deleted account, whose row is then removed (cards cascade). A parent inside the subtree is
 * closed after its children, so their refunds flow up with it. Refunds into root leave the books.
 */
export async function deleteSubtree(
  ctx: MoneyCtx,
  subtree: readonly Account[],
  removeRow: (id: number) => Promise<void>,
  findParent: (id: number) => Promise<Account | null>,
  heldOf: (id: number) => number = () => 0,
): Promise<DeletedAccount[]> {
  const inside = new Map(subtree.map((a) => [a.id, a]))
  const depth = (a: Account) => a.dna.length - a.dna.replaceAll('.', '').length
  const order = [...subtree].sort((a, b) => depth(b) - depth(a) || b.id - a.id)
  const out: DeletedAccount[] = []
  for (const acc of order) {
    const cards = (await ctx.cards.cardsOf(acc.id, true))
    const balanceNano = balanceOf(cards, ctx.nowMs)
    // What stays for the calls in flight: their holds, never more than the account has.
    const heldNano = Math.min(heldOf(acc.id), Math.max(0, balanceNano))
    const totalNano = cards.reduce((s, c) => s + c.balanceNano, 0)
    let refundNano = 0
    const parent =
      acc.parentId === null ? null : (inside.get(acc.parentId) ?? (await findParent(acc.parentId)))
    if (parent && !isRoot(parent)) {
      refundNano = deleteRefund(balanceNano - heldNano, acc.rates, parent.rates)
      if (refundNano > 0) {
        const got = grant(
          (await ctx.cards.cardsOf(parent.id, true)),
          refundNano,
          ctx.nowMs,
          REFUND_CARD_DAYS,
          `delete of ${acc.name}`,
        )
        await ctx.cards.apply(parent.id, got.changes, 'delete_refund', ctx.ref, ctx.nowMs)
      }
    }
    await ctx.cards.ledger(acc.id, -totalNano, 'delete', ctx.ref, ctx.nowMs)
    await removeRow(acc.id)
    out.push({ account: acc, balanceNano, heldNano, refundNano })
  }
  return out
}

/**
 * The last call of a deleted account ended: what its holds left (`leftNano`, the deleted
 * account's units) becomes a card of `heir` (its nearest surviving ancestor), converted down and
 * with no second fee; calls that cost more than their holds are paid by the heir (converted up,
 * debt allowed). Root is the bank: money into or out of root leaves or enters no books.
 */
export async function closeEscrow(
  ctx: MoneyCtx,
  heir: Account,
  deleted: { name: string; rates: number; leftNano: number },
): Promise<number> {
  if (isRoot(heir) || deleted.leftNano === 0) return 0
  if (deleted.leftNano > 0) {
    const nano = convert(deleted.leftNano, heir.rates, deleted.rates, 'down')
    if (nano === 0) return 0
    const cards = (await ctx.cards.cardsOf(heir.id, true))
    const got = grant(cards, nano, ctx.nowMs, REFUND_CARD_DAYS, `delete of ${deleted.name}`)
    await ctx.cards.apply(heir.id, got.changes, 'delete_refund', ctx.ref, ctx.nowMs)
    return nano
  }
  const nano = convert(-deleted.leftNano, heir.rates, deleted.rates, 'up')
  const paid = spend((await ctx.cards.cardsOf(heir.id, true)), nano, ctx.nowMs, { allowDebt: true })
  if (!paid.ok) throw new Error(`spend with debt refused for account ${heir.id}`)
  await ctx.cards.apply(heir.id, paid.changes, 'delete_refund', ctx.ref, ctx.nowMs)
  return -nano
}
