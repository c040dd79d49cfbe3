// Pure arithmetic on an account's prepaid credit cards: balance, grant (with merging), spend,
// deduct, re-rating and the conversions between accounts' book units. No I/O.
import type { Denial } from '../shared/errors'

/** Money in nano-USD of the owner's book units (real value × Rates); times in unix ms. */
export type Card = {
  id?: number
  amountNano: number
  balanceNano: number
  grantedAtMs: number
  expiresAtMs: number
  reference?: string
}

/**
 * One card row to persist: no `before` = insert, no `after` = delete, both = update (by
 * `before.id`). `deltaNano` is the card's balance change; the changes of one call sum to the
 * account's ledger row for it.
 */
export type CardChange = { before?: Card; after?: Card; deltaNano: number }
export type CardsResult = { cards: Card[]; changes: CardChange[]; deltaNano: number }
export type SpendResult = (CardsResult & { ok: true; debtNano: number }) | Denial

export const DAY_MS = 86_400_000
export const MAX_CARDS = 10
export const DEFAULT_CARD_DAYS = 365
export const REFUND_CARD_DAYS = 180
export const DEBT_CARD_DAYS = 365
/** Fee kept on deduct and delete refunds, in the receiving account's book units. */
export const REFUND_FEE_NANO = 200_000_000

/** A card counts while `nowMs < expiresAtMs`; at its expiry instant it is already expired. */
export function isLive(card: Card, nowMs: number): boolean {
  return nowMs < card.expiresAtMs
}

/**
 * Sum of unexpired balances. Expired money is never removed: it stays on its card row (so the
 * ledger invariant Σ all card balances == Σ ledger rows holds without an expiry row) and simply
 * stops counting. Debt does not expire: a negative balance keeps counting after its card expires,
 * so letting the card that carries a debt run out never forgives it.
 */
export function balanceOf(cards: readonly Card[], nowMs: number): number {
  let sum = 0
  for (const c of cards) sum += isLive(c, nowMs) ? c.balanceNano : Math.min(0, c.balanceNano)
  return sum
}

/** Add a card of `amountNano` valid `days` (0 < days ≤ 365), then merge down to MAX_CARDS. */
export function grant(
  cards: readonly Card[],
  amountNano: number,
  nowMs: number,
  days = DEFAULT_CARD_DAYS,
  reference?: string,
): CardsResult {
  assertNano(amountNano, 'amount')
  if (amountNano <= 0) throw new RangeError('a granted card must have a positive amount')
  if (!(days > 0 && days <= 365)) throw new RangeError('days must be in (0, 365]')
  const card: Card = {
    amountNano,
    balanceNano: amountNano,
    grantedAtMs: nowMs,
    expiresAtMs: nowMs + Math.round(days * DAY_MS),
  }
  if (reference !== undefined) card.reference = reference
  return finish(cards, [...slotsOf(cards), { card }], nowMs)
}

/**
 * Charge `amountNano`, drawing from positive unexpired balances, the card expiring first first.
 * When the balance cannot cover it: without `allowDebt` nothing changes and an
 * `insufficient_balance` denial comes back; with `allowDebt` (usage of a call that has already
 * happened) the remainder is put on the unexpired card expiring last, whose balance goes
 * negative, or, with no unexpired card, on a new zero-amount 'debt' card valid DEBT_CARD_DAYS.
 */
export function spend(
  cards: readonly Card[],
  amountNano: number,
  nowMs: number,
  opts: { allowDebt: boolean },
): SpendResult {
  assertNano(amountNano, 'amount')
  if (amountNano < 0) throw new RangeError('spend amount must not be negative')
  const available = balanceOf(cards, nowMs)
  if (amountNano > available && !opts.allowDebt) {
    return {
      ok: false,
      code: 'insufficient_balance',
      message: `balance ${available} nano-USD cannot cover ${amountNano} nano-USD`,
    }
  }
  const slots = slotsOf(cards)
  const debtNano = drawInExpiryOrder(slots, amountNano, nowMs)
  if (debtNano > 0) {
    const live = byExpiry(slots, nowMs)
    const last = live[live.length - 1]
    if (last) {
      last.card = { ...last.card, balanceNano: safe(last.card.balanceNano - debtNano) }
    } else {
      const expiresAtMs = nowMs + DEBT_CARD_DAYS * DAY_MS
      const debt: Card = { amountNano: 0, balanceNano: -debtNano, grantedAtMs: nowMs, expiresAtMs }
      slots.push({ card: { ...debt, reference: 'debt' } })
    }
  }
  return { ok: true, debtNano, ...finish(cards, slots, nowMs) }
}

/**
 * Take up to `amountNano` away (a parent deducting from a child), never more than the balance,
 * in the same order as spend. `takenNano` is what actually left, the base of the caller's refund.
 */
export function deduct(
  cards: readonly Card[],
  amountNano: number,
  nowMs: number,
): CardsResult & { takenNano: number } {
  assertNano(amountNano, 'amount')
  if (amountNano < 0) throw new RangeError('deduct amount must not be negative')
  const takenNano = Math.min(amountNano, Math.max(0, balanceOf(cards, nowMs)))
  const slots = slotsOf(cards)
  drawInExpiryOrder(slots, takenNano, nowMs)
  return { takenNano, ...finish(cards, slots, nowMs) }
}

/**
 * Re-rate every card (expired ones too) by `ratio` = new Rates / old Rates. Per-card rounding is
 * apportioned so that each new total is the old total × ratio rounded once: the balance total
 * moves by exactly round(Σ × ratio) − Σ, which is also Σ of the returned deltas.
 */
export function rescale(cards: readonly Card[], ratio: number): CardsResult {
  if (!(Number.isFinite(ratio) && ratio > 0)) throw new RangeError('ratio must be positive')
  const amounts = apportion(
    cards.map((c) => c.amountNano),
    ratio,
  )
  const balances = apportion(
    cards.map((c) => c.balanceNano),
    ratio,
  )
  const next = cards.map((c, i) => ({ ...c, amountNano: amounts[i], balanceNano: balances[i] }))
  const changes: CardChange[] = []
  cards.forEach((before, i) => {
    const after = next[i]
    if (after.amountNano === before.amountNano && after.balanceNano === before.balanceNano) return
    changes.push({ before, after, deltaNano: after.balanceNano - before.balanceNano })
  })
  return { cards: next, changes, deltaNano: sumDeltas(changes) }
}

/** What a payer pays to fund a child with a card of `xNano` (child units): X × payer / child. */
export function fundingCost(xNano: number, payerRates: number, childRates: number): number {
  return convert(xNano, payerRates, childRates, 'up')
}

/** The caller's card for deducting `xNano` from a target: X × caller / target − fee, ≥ 0. */
export function deductRefund(xNano: number, callerRates: number, targetRates: number): number {
  return Math.max(0, convert(xNano, callerRates, targetRates, 'down') - REFUND_FEE_NANO)
}

/** The parent's card when a child holding `balanceNano` is deleted; a debt refunds nothing. */
export function deleteRefund(balanceNano: number, childRates: number, parentRates: number): number {
  if (balanceNano <= 0) return 0
  return Math.max(0, convert(balanceNano, parentRates, childRates, 'down') - REFUND_FEE_NANO)
}

/**
 * `nano` of the `fromRates` account in `toRates` units, rounded once against the payee (a payer's
 * cost `up`, a payee's card `down`); within 1e-6 of an integer is that integer (float noise).
 */
export function convert(nano: number, toRates: number, fromRates: number, dir: 'up' | 'down') {
  assertNano(nano, 'amount')
  if (nano < 0) throw new RangeError('amount must not be negative')
  if (!(toRates > 0 && fromRates > 0 && Number.isFinite(toRates) && Number.isFinite(fromRates))) {
    throw new RangeError('Rates must be positive')
  }
  const q = (nano * toRates) / fromRates
  if (Math.abs(q - Math.round(q)) < 1e-6) return safe(Math.round(q))
  return safe(dir === 'up' ? Math.ceil(q) : Math.floor(q))
}

// A slot pairs a card as it was (`orig`, absent for new cards) with its current state.
type Slot = { orig?: Card; card: Card }

function slotsOf(cards: readonly Card[]): Slot[] {
  return cards.map((c) => ({ orig: c, card: c }))
}

/** Live slots, expiring first first; ties by grant time then position, so the order is total. */
function byExpiry(slots: Slot[], nowMs: number): Slot[] {
  return slots
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => isLive(s.card, nowMs))
    .sort(
      (a, b) =>
        a.s.card.expiresAtMs - b.s.card.expiresAtMs ||
        a.s.card.grantedAtMs - b.s.card.grantedAtMs ||
        a.i - b.i,
    )
    .map(({ s }) => s)
}

/** Draw `amountNano` from positive live balances in expiry order; returns what was left over. */
function drawInExpiryOrder(slots: Slot[], amountNano: number, nowMs: number): number {
  let rest = amountNano
  for (const s of byExpiry(slots, nowMs)) {
    if (rest === 0) break
    const take = Math.min(rest, Math.max(0, s.card.balanceNano))
    if (take > 0) s.card = { ...s.card, balanceNano: s.card.balanceNano - take }
    rest -= take
  }
  return rest
}

/**
 * Merge rule, applied while more than MAX_CARDS exist: merge the two cards expiring soonest
 * within one class, trying the classes in this order: expired with balance ≥ 0, expired in
 * debt, live. So dead money is folded first (no live card gets a longer life while that is
 * possible), expired money never joins a live card (it would come back to life), and an expired
 * debt is never offset by expired money. The merged card keeps the sum of amounts and of
 * balances, the latest expiry, the earliest grant time and the later-expiring card's reference
 * (else the other's); it stays in an existing row (id) when one of the two has one, preferring the
 * later-expiring. With 11+ cards some class always holds two, so this ends.
 */
function finish(original: readonly Card[], slots: Slot[], nowMs: number): CardsResult {
  while (slots.length > MAX_CARDS) mergeOnePair(slots, nowMs)
  const kept = new Set(slots.map((s) => s.orig))
  const changes: CardChange[] = []
  for (const before of original) {
    if (!kept.has(before)) changes.push({ before, deltaNano: -before.balanceNano })
  }
  for (const { orig, card } of slots) {
    if (!orig) changes.push({ after: card, deltaNano: card.balanceNano })
    else if (orig !== card) {
      changes.push({ before: orig, after: card, deltaNano: card.balanceNano - orig.balanceNano })
    }
  }
  return { cards: slots.map((s) => s.card), changes, deltaNano: sumDeltas(changes) }
}

function mergeOnePair(slots: Slot[], nowMs: number): void {
  const classOf = (c: Card) => (isLive(c, nowMs) ? 2 : c.balanceNano >= 0 ? 0 : 1)
  const order = slots
    .map((s, i) => ({ s, i }))
    .sort(
      (a, b) =>
        classOf(a.s.card) - classOf(b.s.card) ||
        a.s.card.expiresAtMs - b.s.card.expiresAtMs ||
        a.i - b.i,
    )
  const at = order.findIndex((x, k) => k > 0 && classOf(order[k - 1].s.card) === classOf(x.s.card))
  const soon = order[at - 1].s
  const late = order[at].s
  // The surviving row is an existing one when possible, so a merge is an update plus a delete.
  const keep = late.orig || !soon.orig ? late : soon
  const gone = keep === late ? soon : late
  const merged: Card = {
    ...keep.card,
    amountNano: safe(keep.card.amountNano + gone.card.amountNano),
    balanceNano: safe(keep.card.balanceNano + gone.card.balanceNano),
    grantedAtMs: Math.min(keep.card.grantedAtMs, gone.card.grantedAtMs),
    expiresAtMs: late.card.expiresAtMs,
  }
  const reference = late.card.reference ?? soon.card.reference
  if (reference !== undefined) merged.reference = reference
  else delete merged.reference
  keep.card = merged
  slots.splice(slots.indexOf(gone), 1)
}

/**
 * Scale integers by `ratio` so that the results sum to round(Σ values × ratio): floor each, then
 * hand the missing units to the largest fractional parts (or take surplus ones, which only float
 * error can cause, from the largest values). Non-negative inputs give non-negative outputs.
 */
function apportion(values: number[], ratio: number): number[] {
  const exact = values.map((v) => v * ratio)
  const out = exact.map((x) => safe(Math.floor(x)))
  const target = safe(Math.round(values.reduce((a, v) => a + v, 0) * ratio))
  let missing = target - out.reduce((a, v) => a + v, 0)
  const byFraction = out.map((_, i) => i).sort((a, b) => exact[b] - out[b] - (exact[a] - out[a]))
  const byValue = out.map((_, i) => i).sort((a, b) => out[b] - out[a])
  for (let k = 0; missing > 0 && out.length > 0; k++, missing--)
    out[byFraction[k % out.length]] += 1
  for (let k = 0; missing < 0 && out.length > 0; k++, missing++) out[byValue[k % out.length]] -= 1
  return out
}

function sumDeltas(changes: CardChange[]): number {
  return changes.reduce((a, c) => a + c.deltaNano, 0)
}

function assertNano(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be a safe integer of nano-USD`)
}

function safe(n: number): number {
  if (!Number.isSafeInteger(n)) throw new RangeError('amount out of the safe nano-USD range')
  return n
}
