// Card arithmetic: worked examples with exact numbers, merge and spend rules, and properties.
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import {
  balanceOf,
  type Card,
  type CardsResult,
  DAY_MS,
  deduct,
  deductRefund,
  deleteRefund,
  fundingCost,
  grant,
  MAX_CARDS,
  rescale,
  spend,
} from '../../src/wallet/cards'
import { NANO_PER_USD } from '../../src/shared/money'

const USD = NANO_PER_USD
const NOW = Date.UTC(2026, 0, 15, 12)

function card(id: number, balanceUsd: number, expiresInDays: number, amountUsd = balanceUsd): Card {
  return {
    id,
    amountNano: amountUsd * USD,
    balanceNano: balanceUsd * USD,
    grantedAtMs: NOW - DAY_MS,
    expiresAtMs: NOW + expiresInDays * DAY_MS,
  }
}

function total(cards: Card[]): number {
  return cards.reduce((a, c) => a + c.balanceNano, 0)
}

/** Applying the changes to the old rows (by id or insert) must give the returned cards. */
function replay(before: Card[], r: CardsResult): Card[] {
  let rows = [...before]
  for (const ch of r.changes) {
    if (ch.before) rows = rows.filter((c) => c !== ch.before)
    if (ch.after) rows.push(ch.after)
  }
  return rows
}

function sorted(cards: Card[]): Card[] {
  return [...cards].sort((a, b) => a.expiresAtMs - b.expiresAtMs || a.balanceNano - b.balanceNano)
}

describe('worked examples', () => {
  test('a parent at Rates 1 funding 100 to a child at Rates 2 pays 50', () => {
    expect(fundingCost(100 * USD, 1, 2)).toBe(50 * USD)
    expect(fundingCost(100 * USD, 2, 1)).toBe(200 * USD)
  })

  test('re-rating 100/50 and 80/80 from Rates 1 to 2 gives 200/100 and 160/160', () => {
    const before = [card(1, 50, 30, 100), card(2, 80, 60)]
    const r = rescale(before, 2 / 1)
    expect(r.cards.map((c) => [c.amountNano, c.balanceNano])).toEqual([
      [200 * USD, 100 * USD],
      [160 * USD, 160 * USD],
    ])
    expect(r.deltaNano).toBe(130 * USD)
    expect(r.cards.map((c) => c.id)).toEqual([1, 2])
  })

  test('deduct refund is X × caller / target − $0.20, floored at 0', () => {
    expect(deductRefund(10 * USD, 1, 2)).toBe(4.8 * USD)
    expect(deductRefund(USD / 10, 1, 1)).toBe(0)
    expect(deductRefund(0, 1, 1)).toBe(0)
  })

  test("delete refund converts to the parent's units and keeps $0.20", () => {
    expect(deleteRefund(30 * USD, 1.5, 1)).toBe(19.8 * USD)
    expect(deleteRefund(USD / 10, 1, 1)).toBe(0)
    expect(deleteRefund(-5 * USD, 1, 1)).toBe(0)
  })

  test('conversions reject zero or negative Rates and fractional nano', () => {
    expect(() => fundingCost(USD, 0, 1)).toThrow(RangeError)
    expect(() => fundingCost(USD, 1, -1)).toThrow(RangeError)
    expect(() => fundingCost(0.5, 1, 1)).toThrow(RangeError)
  })
})

describe('balance and expiry', () => {
  test('expired money stays on its card but is not counted', () => {
    const cards = [card(1, 10, 5), card(2, 7, -1)]
    expect(balanceOf(cards, NOW)).toBe(10 * USD)
    expect(balanceOf(cards, NOW + 5 * DAY_MS)).toBe(0)
    expect(total(cards)).toBe(17 * USD)
  })

  test('a debt keeps counting after its card expires', () => {
    const cards = [card(1, 10, 5), { ...card(2, 0, -1), balanceNano: -3 * USD }]
    expect(balanceOf(cards, NOW)).toBe(7 * USD)
  })
})

describe('grant and merge', () => {
  test('a grant adds a card valid `days` and reports one insert', () => {
    const r = grant([card(1, 5, 10)], 20 * USD, NOW, 30, 'op-7')
    expect(r.cards).toHaveLength(2)
    expect(r.cards[1]).toEqual({
      amountNano: 20 * USD,
      balanceNano: 20 * USD,
      grantedAtMs: NOW,
      expiresAtMs: NOW + 30 * DAY_MS,
      reference: 'op-7',
    })
    expect(r.changes).toEqual([{ after: r.cards[1], deltaNano: 20 * USD }])
    expect(grant([], USD, NOW).cards[0]!.expiresAtMs).toBe(NOW + 365 * DAY_MS)
  })

  test('bad amounts and days are refused', () => {
    expect(() => grant([], 0, NOW)).toThrow(RangeError)
    expect(() => grant([], USD, NOW, 0)).toThrow(RangeError)
    expect(() => grant([], USD, NOW, 366)).toThrow(RangeError)
  })

  test('the 11th card merges the two soonest-expiring live cards, keeping totals', () => {
    const before = Array.from({ length: MAX_CARDS }, (_, i) =>
      card(i + 1, i + 1, 10 + i, 2 * i + 2),
    )
    const r = grant(before, 100 * USD, NOW, 365)
    expect(r.cards).toHaveLength(MAX_CARDS)
    const merged = r.cards.find((c) => c.id === 2)!
    expect(merged).toMatchObject({ amountNano: 6 * USD, balanceNano: 3 * USD })
    expect(merged.expiresAtMs).toBe(NOW + 11 * DAY_MS)
    expect(r.cards.find((c) => c.id === 1)).toBeUndefined()
    expect(total(r.cards)).toBe(total(before) + 100 * USD)
    expect(r.deltaNano).toBe(100 * USD)
    expect(sorted(replay(before, r))).toEqual(sorted(r.cards))
  })

  test('expired cards merge among themselves first and never into live ones', () => {
    const expired = Array.from({ length: 6 }, (_, i) => card(i + 1, 1, -10 + i))
    const live = Array.from({ length: 4 }, (_, i) => card(i + 7, 5, 10 + i))
    const r = grant([...expired, ...live], USD, NOW)
    expect(r.cards).toHaveLength(MAX_CARDS)
    expect(balanceOf(r.cards, NOW)).toBe(21 * USD)
    const merged = r.cards.find((c) => c.balanceNano === 2 * USD)!
    expect(merged.expiresAtMs).toBeLessThan(NOW)
    expect(r.cards.filter((c) => c.expiresAtMs > NOW)).toHaveLength(5)
  })

  test('an expired debt is not offset by expired money', () => {
    const debt = { ...card(1, 0, -20), balanceNano: -2 * USD }
    const others = Array.from({ length: 9 }, (_, i) => card(i + 2, 1, -10 + i))
    const r = grant([debt, ...others], USD, NOW)
    expect(r.cards).toContainEqual(debt)
    expect(balanceOf(r.cards, NOW)).toBe(-USD)
  })

  test('merging keeps the latest expiry and totals for any card list (property)', () => {
    const arbCard = fc.record({
      balanceNano: fc.integer({ min: -1e12, max: 1e12 }),
      amountNano: fc.integer({ min: 0, max: 1e12 }),
      grantedAtMs: fc.constant(NOW - DAY_MS),
      expiresAtMs: fc.integer({ min: NOW - 400 * DAY_MS, max: NOW + 365 * DAY_MS }),
    })
    fc.assert(
      fc.property(
        fc.array(arbCard, { maxLength: 14 }),
        fc.integer({ min: 1, max: 1e12 }),
        (cs, x) => {
          const r = grant(cs, x, NOW, 365)
          expect(r.cards.length).toBeLessThanOrEqual(MAX_CARDS)
          expect(total(r.cards)).toBe(total(cs) + x)
          expect(r.deltaNano).toBe(x)
          expect(balanceOf(r.cards, NOW)).toBe(balanceOf(cs, NOW) + x)
          const latest = Math.max(NOW + 365 * DAY_MS, ...cs.map((c) => c.expiresAtMs))
          expect(Math.max(...r.cards.map((c) => c.expiresAtMs))).toBe(latest)
          expect(sorted(replay(cs, r))).toEqual(sorted(r.cards))
        },
      ),
    )
  })
})

describe('spend', () => {
  test('draws from the card expiring first, then the next', () => {
    const before = [card(1, 10, 90), card(2, 4, 3), card(3, 5, 30), card(4, 50, -1)]
    const r = spend(before, 7 * USD, NOW, { allowDebt: false })
    if (!r.ok) throw new Error(r.message)
    expect(r.cards.map((c) => c.balanceNano / USD)).toEqual([10, 0, 2, 50])
    expect(r.changes.map((c) => [c.before?.id, c.deltaNano / USD])).toEqual([
      [2, -4],
      [3, -3],
    ])
    expect(r.debtNano).toBe(0)
    expect(before[1]!.balanceNano).toBe(4 * USD)
  })

  test('without allowDebt an uncovered charge is denied and nothing changes', () => {
    const r = spend([card(1, 3, 10), card(2, 100, -1)], 4 * USD, NOW, { allowDebt: false })
    expect(r).toMatchObject({ ok: false, code: 'insufficient_balance' })
  })

  test('with allowDebt the remainder goes to the live card expiring last', () => {
    const r = spend([card(1, 3, 10), card(2, 2, 200), card(3, 1, 50)], 10 * USD, NOW, {
      allowDebt: true,
    })
    if (!r.ok) throw new Error(r.message)
    expect(r.cards.map((c) => c.balanceNano / USD)).toEqual([0, -4, 0])
    expect(r.debtNano).toBe(4 * USD)
    expect(r.deltaNano).toBe(-10 * USD)
    expect(balanceOf(r.cards, NOW)).toBe(-4 * USD)
  })

  test('with allowDebt and no live card a zero-amount debt card valid 365 days appears', () => {
    const r = spend([card(1, 9, -1)], 2 * USD, NOW, { allowDebt: true })
    if (!r.ok) throw new Error(r.message)
    expect(r.cards[1]).toEqual({
      amountNano: 0,
      balanceNano: -2 * USD,
      grantedAtMs: NOW,
      expiresAtMs: NOW + 365 * DAY_MS,
      reference: 'debt',
    })
    expect(r.changes).toEqual([{ after: r.cards[1], deltaNano: -2 * USD }])
  })

  test('an existing debt elsewhere makes an otherwise coverable charge a denial', () => {
    const cards = [card(1, 5, 10), { ...card(2, 0, 20), balanceNano: -2 * USD }]
    expect(spend(cards, 4 * USD, NOW, { allowDebt: false }).ok).toBe(false)
    expect(spend(cards, 3 * USD, NOW, { allowDebt: false }).ok).toBe(true)
  })

  test('spend moves the balance by exactly the amount (property)', () => {
    const arb = fc.array(
      fc.record({
        balanceNano: fc.integer({ min: 0, max: 1e11 }),
        expiresAtMs: fc.integer({ min: NOW - DAY_MS, max: NOW + DAY_MS }),
      }),
      { maxLength: 10 },
    )
    fc.assert(
      fc.property(arb, fc.integer({ min: 0, max: 5e11 }), fc.boolean(), (raw, x, allowDebt) => {
        const cs = raw.map((c) => ({ ...c, amountNano: c.balanceNano, grantedAtMs: NOW - 1 }))
        const r = spend(cs, x, NOW, { allowDebt })
        if (!r.ok) {
          expect(allowDebt).toBe(false)
          expect(x).toBeGreaterThan(balanceOf(cs, NOW))
          return
        }
        expect(balanceOf(r.cards, NOW)).toBe(balanceOf(cs, NOW) - x)
        expect(r.deltaNano).toBe(0 - x)
        expect(r.cards.filter((c) => c.expiresAtMs <= NOW)).toEqual(
          cs.filter((c) => c.expiresAtMs <= NOW),
        )
      }),
    )
  })
})

describe('deduct', () => {
  test('takes up to the balance, soonest-expiring first, and says how much', () => {
    const before = [card(1, 10, 90), card(2, 4, 3), card(3, 30, -1)]
    const part = deduct(before, 6 * USD, NOW)
    expect(part.takenNano).toBe(6 * USD)
    expect(part.cards.map((c) => c.balanceNano / USD)).toEqual([8, 0, 30])
    const all = deduct(before, 100 * USD, NOW)
    expect(all.takenNano).toBe(14 * USD)
    expect(all.deltaNano).toBe(-14 * USD)
    expect(balanceOf(all.cards, NOW)).toBe(0)
  })

  test('an account in debt gives nothing', () => {
    const r = deduct([{ ...card(1, 0, 9), balanceNano: -USD }], USD, NOW)
    expect(r.takenNano).toBe(0)
    expect(r.changes).toEqual([])
  })
})

describe('rescale', () => {
  test('per-card rounding is apportioned so the total rounds once', () => {
    // Three cards of 1 nano at ratio 1.5: 1.5 each, 4.5 in all → total 5 (Math.round), not 3 or 6.
    const before = [1, 1, 1].map((b, i) => ({ ...card(i, 0, 9), amountNano: b, balanceNano: b }))
    const r = rescale(before, 1.5)
    expect(total(r.cards)).toBe(5)
    expect(r.deltaNano).toBe(2)
    expect(r.cards.every((c) => c.balanceNano === 1 || c.balanceNano === 2)).toBe(true)
  })

  test('random cards and rate pairs: Σ deltas == new total − old total (property)', () => {
    const rates = fc.double({ min: 0.1, max: 10, noNaN: true })
    const arbCard = fc.record({
      amountNano: fc.integer({ min: 0, max: 1e13 }),
      balanceNano: fc.integer({ min: 0, max: 1e13 }),
      grantedAtMs: fc.constant(NOW),
      expiresAtMs: fc.integer({ min: NOW - DAY_MS, max: NOW + DAY_MS }),
    })
    fc.assert(
      fc.property(fc.array(arbCard, { maxLength: 12 }), rates, rates, (cs, oldRates, newRates) => {
        const ratio = newRates / oldRates
        const r = rescale(cs, ratio)
        const sum = r.changes.reduce((a, c) => a + c.deltaNano, 0)
        expect(sum).toBe(total(r.cards) - total(cs))
        expect(r.deltaNano).toBe(sum)
        expect(total(r.cards)).toBe(Math.round(total(cs) * ratio))
        for (const c of r.cards) {
          expect(c.balanceNano).toBeGreaterThanOrEqual(0)
          expect(c.amountNano).toBeGreaterThanOrEqual(0)
          expect(Number.isSafeInteger(c.balanceNano)).toBe(true)
        }
      }),
    )
  })

  test('only cards that change are reported', () => {
    const r = rescale([card(1, 5, 9), { ...card(2, 0, 9, 0) }], 3)
    expect(r.changes.map((c) => [c.before?.id, c.after?.balanceNano])).toEqual([[1, 15 * USD]])
    expect(rescale([card(1, 5, 9)], 1).changes).toEqual([])
  })

  test('a negative or non-finite ratio is refused', () => {
    expect(() => rescale([card(1, 1, 1)], 0)).toThrow(RangeError)
    expect(() => rescale([card(1, 1, 1)], Number.NaN)).toThrow(RangeError)
  })
})
