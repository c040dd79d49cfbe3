// §2.3 through HTTP with exact numbers: funding across Rates, re-rating, deduct and delete with
// the $0.20 fee and 180-day cards, expiry, merging, root as the bank, 402 without side effects.
import { describe, expect, test } from 'bun:test'
import { cardsNano, DAY_MS, stateDigest, USD, useGateway } from './helpers'

const h = useGateway()

describe('funding', () => {
  test('a parent at Rates 1 funding 100 to a child at Rates 2 pays 50', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 200 })
    const kid = await h.child(parent.key, { CreditGranted: 100, Rates: 2 })
    expect(kid.reply.body.Parent.Balance, kid.reply.text).toBe(150)
    expect(kid.reply.body.User.Updates.Balance, kid.reply.text).toBe(100)
    const r = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: 100 })
    expect(r.status, r.text).toBe(200)
    expect(r.body.Parent.Balance, r.text).toBe(100)
    expect(r.body.User.Updates.Balance, r.text).toBe(200)
    // CreditGranted is the lifetime total (100 at creation + 100 now); Granted is this operation's.
    expect(r.body.User.Updates.CreditGranted, r.text).toBe(200)
    expect(r.body.User.Updates.Granted, r.text).toBe(100)
  })

  test('a payer at Rates 2 funding a child at Rates 3 pays X × 2 / 3, rounded once to the nano', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 300, Rates: 2 })
    const kid = await h.child(parent.key, { CreditGranted: 10, Rates: 3 })
    const cost = Math.round((10 * USD * 2) / 3)
    expect(cardsNano(kid.reply.body.Parent.CreditBalance), kid.reply.text).toBe(300 * USD - cost)
  })

  test('root mints: its funding leaves no ledger row on root and its Balance is null', async () => {
    const before = (await h.gw.deps.sql.get('SELECT COUNT(*) AS n FROM ledger WHERE account_id = 1')) as { n: number }
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 42 })
    expect(kid.reply.body.Parent, kid.reply.text).toEqual({
      ID: 1,
      Name: 'root',
      Rates: 1,
      Balance: null,
      CreditBalance: [],
    })
    const after = (await h.gw.deps.sql.get('SELECT COUNT(*) AS n FROM ledger WHERE account_id = 1')) as { n: number }
    expect(after.n).toBe(before.n)
    expect((await h.get(1)).Balance).toBeNull()
  })

  test('Days sets the card validity; expired money stops counting', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10, Days: 30 })
    const card = kid.reply.body.User.Updates.CreditBalance[0]
    expect(Date.parse(card.expires_at) - Date.parse(card.granted_at), kid.reply.text).toBe(
      30 * DAY_MS,
    )
    h.clock.advance(31 * DAY_MS)
    try {
      const u = await h.get(kid.id)
      expect(u.Balance, JSON.stringify(u)).toBe(0)
      expect(u.CreditBalance[0].balance, JSON.stringify(u)).toBe(10)
    } finally {
      h.clock.advance(-31 * DAY_MS)
    }
  })

  test('more than 10 cards merge, keeping the total and the latest expiry', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 5, Days: 10 })
    let last: any
    for (let i = 1; i <= 11; i++) {
      last = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, {
        CreditGranted: 1,
        Days: 10 + i,
      })
      expect(last.status, last.text).toBe(200)
    }
    const cards = last.body.User.Updates.CreditBalance
    expect(cards.length, last.text).toBe(10)
    expect(cardsNano(cards), last.text).toBe(16 * USD)
    const latest = Math.max(...cards.map((c: any) => Date.parse(c.expires_at)))
    expect(latest - h.clock.now(), last.text).toBe(21 * DAY_MS)
  })

  test('a payer without enough balance gets 402 and nothing changes', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 30 })
    const kid = await h.child(parent.key, { CreditGranted: 5 })
    const before = await stateDigest(h.gw)
    const r = await h.req('PUT', `/x-users/${kid.id}`, parent.key, {
      CreditGranted: 26,
      Alias: 'renamed',
    })
    expect(r.status, r.text).toBe(402)
    expect(r.body.error.code, r.text).toBe('insufficient_balance')
    expect(await stateDigest(h.gw)).toBe(before)
    const c = await h.req('POST', '/x-users', parent.key, {
      Name: h.uniq(),
      Email: `${h.uniq()}@example.com`,
      CreditGranted: 26,
    })
    expect(c.status, c.text).toBe(402)
    expect(await stateDigest(h.gw)).toBe(before)
  })
})

describe('re-rating', () => {
  test('cards 100/50 and 80/80 re-rated from 1 to 2 become 200/100 and 160/160', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 100, Days: 30 })
    expect(
      (await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { CreditGranted: 80 })).status,
    ).toBe(200)
    const d = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { CreditGranted: -50 })
    expect(d.status, d.text).toBe(200)
    const r = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { Rates: 2 })
    expect(r.status, r.text).toBe(200)
    const cards = r.body.User.Updates.CreditBalance.map((c: any) => [c.amount, c.balance])
    expect(cards, r.text).toEqual([
      [200, 100],
      [160, 160],
    ])
    expect(r.body.User.Updates.Rates, r.text).toBe(2)
    expect(r.body.User.Updates.Balance, r.text).toBe(260)
  })

  test('after re-rating to 2, a parent at Rates 1 funding 100 pays 50', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const kid = await h.child(parent.key, { CreditGranted: 10 })
    expect((await h.req('PUT', `/x-users/${kid.id}`, parent.key, { Rates: 2 })).status).toBe(200)
    const r = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: 100 })
    expect(r.body.Parent.Balance, r.text).toBe(40)
    expect(r.body.User.Updates.Balance, r.text).toBe(120)
  })
})

describe('deduct', () => {
  test('deducting 20 from a child at Rates 2 gives the parent a 9.80 card valid 180 days', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const kid = await h.child(parent.key, { CreditGranted: 50, Rates: 2 })
    const r = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: -20 })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates.Balance, r.text).toBe(30)
    expect(r.body.User.Updates.CreditGranted, r.text).toBe(30)
    expect(r.body.User.Updates.Deducted, r.text).toBe(20)
    const refund = r.body.Parent.CreditBalance.find((c: any) => c.amount === 9.8)
    expect(refund, r.text).toBeDefined()
    expect(Date.parse(refund.expires_at) - h.clock.now(), r.text).toBe(180 * DAY_MS)
    expect(r.body.Parent.Balance, r.text).toBe(75 + 9.8)
  })

  test('a deduct takes no more than the balance; with nothing left it is a 400', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const kid = await h.child(parent.key, { CreditGranted: 5 })
    const r = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: -50 })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates.CreditGranted, r.text).toBe(0)
    expect(r.body.User.Updates.Deducted, r.text).toBe(5)
    expect(r.body.User.Updates.Balance, r.text).toBe(0)
    expect(r.body.Parent.Balance, r.text).toBe(95 + 4.8)
    const again = await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: -1 })
    expect(again.status, again.text).toBe(400)
    expect(again.body.error.message, again.text).toContain('CreditGranted')
  })

  test('root deducting burns the money: the child loses it, root gets no card', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const r = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { CreditGranted: -4 })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates.Balance, r.text).toBe(6)
    expect(r.body.Parent.CreditBalance, r.text).toEqual([])
  })
})

describe('delete', () => {
  test('a child at Rates 2 holding 100 + 160 refunds 129.80 to its parent, valid 180 days', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 500 })
    const kid = await h.child(parent.key, { CreditGranted: 100, Rates: 2, Days: 30 })
    expect(
      (await h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: 160 })).status,
    ).toBe(200)
    const r = await h.req('DELETE', `/x-users/${kid.name}`, parent.key)
    expect(r.status, r.text).toBe(200)
    expect(r.body.Action).toBe('delete')
    expect(r.body.User, r.text).toMatchObject({
      ID: kid.id,
      Name: kid.name,
      Rates: 2,
      Balance: 260,
    })
    const refund = r.body.Parent.CreditBalance.find((c: any) => c.amount === 129.8)
    expect(refund, r.text).toBeDefined()
    expect(Date.parse(refund.expires_at) - h.clock.now(), r.text).toBe(180 * DAY_MS)
    expect(r.body.Parent.Balance, r.text).toBe(500 - 130 + 129.8)
    const gone = await h.req('GET', `/x-dna/${kid.id}`, h.gw.rootKey)
    expect(gone.status, gone.text).toBe(404)
    const dead = await h.req('GET', '/x-users', kid.key)
    expect(dead.status, dead.text).toBe(401)
  })

  test('deleting a subtree refunds the grandchild into the child, then the child into the parent', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 500 })
    const kid = await h.child(parent.key, { CreditGranted: 100 })
    const grand = await h.child(kid.key, { CreditGranted: 40, Rates: 2 })
    // kid: 100 − 20 = 80; grand: 40 at Rates 2 → 20 − 0.20 = 19.80 into kid → 99.80;
    // kid → 99.80 − 0.20 = 99.60 into parent.
    const r = await h.req('DELETE', `/x-users/${kid.id}`, parent.key)
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Deleted, r.text).toBe(2)
    expect(r.body.Parent.Balance, r.text).toBe(400 + 99.6)
    for (const id of [kid.id, grand.id]) {
      expect((await h.req('GET', `/x-dna/${id}`, h.gw.rootKey)).status).toBe(404)
    }
    const rows = (await h.gw.deps.sql.get('SELECT COUNT(*) AS n FROM ledger WHERE account_id = ?', [grand.id])) as { n: number }
    expect(rows.n, 'the ledger rows of a deleted account stay').toBeGreaterThan(0)
  })

  test('a deleted account frees its Name and Email', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    expect((await h.req('DELETE', `/x-users/${kid.id}`, h.gw.rootKey)).status).toBe(200)
    const again = await h.child(h.gw.rootKey, { Name: kid.name, CreditGranted: 10 })
    expect(again.id).not.toBe(kid.id)
  })
})

describe('invariant check', () => {
  test('a ledger row without a card is reported by invariantViolations (what xgate check prints)', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const sql = h.gw.deps.sql
    const id = (await sql.get<{ id: number }>(
      "INSERT INTO ledger (account_id, delta_nano, reason, created_at) VALUES (?, 1, 'tamper', 0) RETURNING id",
      [kid.id],
    ))!
    try {
      const v = await h.gw.deps.accounts.service.cards.invariantViolations()
      expect(v, JSON.stringify(v)).toEqual([
        { id: kid.id, name: kid.name, cardsNano: 10 * USD, ledgerNano: 10 * USD + 1 },
      ])
    } finally {
      await sql.run('DELETE FROM ledger WHERE id = ?', [id.id])
    }
  })
})
