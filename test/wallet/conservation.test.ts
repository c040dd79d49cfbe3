// Conversions never create money (§2.3): a payer's cost rounds up, a payee's card rounds down, an
// amount that rounds to 0 nano-dollars is refused, and `xgate check`'s conservation query finds
// an operation whose payee received more real value than its payer paid. CreditGranted is the
// lifetime total of grants minus deductions.
import { describe, expect, test } from 'bun:test'
import { createCardsRepo } from '../../src/wallet/repo'
import { convert, deductRefund, deleteRefund, fundingCost } from '../../src/wallet/cards'
import { cardsNano, stateDigest, USD, useGateway } from '../accounts/helpers'

const h = useGateway()
const conservation = () => createCardsRepo(h.gw.deps.sql).conservationViolations()

describe('rounding never favours the payee', () => {
  test('conversions: payer cost up, payee card down, exact quotients unchanged', () => {
    expect(fundingCost(400, 1, 1000)).toBe(1) // 0.4 nano costs 1 nano, not 0
    expect(fundingCost(1_500, 1, 1000)).toBe(2)
    expect(fundingCost(100 * USD, 1, 2)).toBe(50 * USD)
    expect(convert(1_999, 1, 1000, 'down')).toBe(1)
    expect(deductRefund(USD + 999, 1, 1000)).toBe(0) // 1 nano worth minus the fee
    expect(deleteRefund(3 * USD + 1, 3, 1)).toBe(USD - 0.2 * USD) // 1.0000000003 rounds down
    expect(convert(3 * USD, 0.1, 0.3, 'up')).toBe(USD) // float noise is not a nano-dollar
  })

  test('twenty cards costing 0.4 nano each cost the payer 20 nano, not nothing', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const kid = await h.child(parent.key, { CreditGranted: 2, Rates: 1000 })
    const balance = async () => cardsNano((await h.get(parent.id)).CreditBalance)
    const before = await balance()
    for (let i = 0; i < 20; i++) {
      const r = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: 0.0000004 })
      expect(r.status, r.text).toBe(200)
    }
    expect(before - (await balance())).toBe(20)
    expect(await conservation()).toEqual([])
  })

  test('an amount that rounds to 0 nano-dollars is a 400 naming CreditGranted, nothing moves', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const kid = await h.child(parent.key, { CreditGranted: 2 })
    const digest = await stateDigest(h.gw)
    for (const x of [0.0000000004, -0.0000000004]) {
      const r = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: x })
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.param, r.text).toBe('CreditGranted')
      expect(r.body.error.message, r.text).toContain('rounds to 0')
    }
    expect(await stateDigest(h.gw)).toBe(digest)
  })
})

describe('CreditGranted is the lifetime total', () => {
  test('grants minus deductions, in the account units; PUT answers show the new total', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 500 })
    const kid = await h.child(parent.key, { CreditGranted: 100 })
    expect((await h.get(kid.id)).CreditGranted).toBe(100)
    const up = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: 50 })
    expect(up.body.User.Updates.CreditGranted, up.text).toBe(150)
    const down = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: -30 })
    expect(down.body.User.Updates.CreditGranted, down.text).toBe(120)
    expect((await h.get(kid.id)).CreditGranted).toBe(120)
    const rerated = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { Rates: 2 })
    expect(rerated.status, rerated.text).toBe(200)
    expect((await h.get(kid.id)).CreditGranted).toBe(240)
    expect(await conservation()).toEqual([])
  })
})

describe('the conservation check', () => {
  test('finds an operation whose payee got more real value than its payer gave', async () => {
    const a = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const b = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const cards = createCardsRepo(h.gw.deps.sql)
    expect(await conservation()).toEqual([])
    // A hand-made movement: a pays 1 nano, b receives 2 at the same Rates.
    await cards.ledger(a.id, -1, 'fund', 'op-test-created', 0)
    await cards.ledger(b.id, 2, 'recharge', 'op-test-created', 0)
    expect(await conservation()).toEqual([{ ref: 'op-test-created', paidNano: 1, receivedNano: 2 }])
    await cards.ledger(a.id, 1, 'fund', 'op-test-undo-a', 0)
    await cards.ledger(b.id, -2, 'recharge', 'op-test-undo-b', 0)
    await h.gw.deps.sql.run(`DELETE FROM ledger WHERE ref LIKE 'op-test-%'`)
    expect(await conservation()).toEqual([])
  })
})
