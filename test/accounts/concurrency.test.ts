// Many parallel HTTP requests moving money around one account: nothing lost, nothing created,
// and a payer never goes below zero however the requests interleave.
import { describe, expect, test } from 'bun:test'
import { cardsNano, USD, useGateway } from './helpers'

// No least balance for the API here, so the payer can be drained to its last cent.
const h = useGateway({ USER_API_MIN_BALANCE: '0' })

const N = 60

describe('parallel funding', () => {
  test(`${N} parallel fundings of one child: each one lands exactly once`, async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 10_000 })
    const kid = await h.child(parent.key, { CreditGranted: 2, Rates: 2 })
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: 1 + (i % 3) }),
      ),
    )
    for (const r of replies) expect(r.status, r.text).toBe(200)
    const granted = Array.from({ length: N }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0)
    const k = await h.get(kid.id)
    expect(cardsNano(k.CreditBalance), JSON.stringify(k)).toBe((2 + granted) * USD)
    const p = await h.get(parent.id)
    // A child at Rates 2 costs its Rates-1 parent half of each card.
    expect(cardsNano(p.CreditBalance), JSON.stringify(p)).toBe(
      10_000 * USD - ((2 + granted) * USD) / 2,
    )
  })

  test('parallel fundings beyond the payer balance: the ones that fit succeed, the rest are 402', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const kid = await h.child(parent.key, { CreditGranted: 2 })
    const replies = await Promise.all(
      Array.from({ length: N }, () =>
        h.req('PUT', `/x-users/${kid.id}`, parent.key, { CreditGranted: 7 }),
      ),
    )
    const ok = replies.filter((r) => r.status === 200).length
    const refused = replies.filter((r) => r.status === 402).length
    expect(ok + refused, replies.map((r) => r.text).join('\n')).toBe(N)
    expect(ok).toBe(Math.floor(98 / 7))
    const p = await h.get(parent.id)
    expect(cardsNano(p.CreditBalance), JSON.stringify(p)).toBe(98 * USD - ok * 7 * USD)
    expect(p.Balance).toBeGreaterThanOrEqual(0)
  })

  test('parallel funds and deducts from two ancestors keep the books exact', async () => {
    const top = await h.child(h.gw.rootKey, { CreditGranted: 5000 })
    const mid = await h.child(top.key, { CreditGranted: 1000 })
    const kid = await h.child(mid.key, { CreditGranted: 100 })
    const ops = Array.from({ length: N }, (_, i) => {
      const key = i % 2 ? top.key : mid.key
      return h.req('PUT', `/x-users/${kid.id}`, key, { CreditGranted: i % 3 === 0 ? -1 : 2 })
    })
    const replies = await Promise.all(ops)
    for (const r of replies) expect(r.status, r.text).toBe(200)
    const sum = async (ids: number[]) =>
      (
        (await h.gw.deps.sql.get(`SELECT CAST(SUM(delta_nano) AS BIGINT) AS s FROM ledger WHERE account_id IN (${ids.join(',')})`)) as { s: number }
      ).s
    const fees = replies.filter((r) => r.body.User.Updates.Deducted === 1).length * 0.2 * USD
    // Root minted 5000 into the three; moves between them are transfers; only the deduct fees left.
    expect(fees).toBeGreaterThan(0)
    expect(await sum([top.id, mid.id, kid.id])).toBe(5000 * USD - fees)
  })
})
