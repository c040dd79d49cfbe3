// Property: random sequences of create / fund / deduct / re-rate / delete / time passing, sent
// through HTTP by root or by the target's parent, keep the ledger invariant, never make a card
// or balance negative, never answer 5xx, and never create money except what root grants.
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { DAY_MS, expectInvariant, useGateway } from './helpers'

const h = useGateway({ USER_API_MIN_BALANCE: '0', USER_MIN_BALANCE: '2' })

type Node = { id: number; key: string; parent: number; rates: number; alive: boolean }

const RATES = [1, 1.25, 2, 3]
const op = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    at: fc.nat(),
    credit: fc.integer({ min: 2, max: 60 }),
    rates: fc.constantFrom(...RATES),
  }),
  fc.record({
    kind: fc.constant('fund' as const),
    at: fc.nat(),
    cents: fc.integer({ min: 1, max: 4000 }),
    days: fc.constantFrom(undefined, 1, 30, 365),
    byRoot: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('deduct' as const),
    at: fc.nat(),
    cents: fc.integer({ min: 1, max: 4000 }),
    byRoot: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('rerate' as const),
    at: fc.nat(),
    rates: fc.constantFrom(...RATES),
    byRoot: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byRoot: fc.boolean() }),
  fc.record({ kind: fc.constant('wait' as const), days: fc.integer({ min: 1, max: 120 }) }),
)

/** Σ card balance / Rates: what all accounts hold in real (Rates 1) nano-USD. */
async function realTotal(): Promise<number> {
  const r = (await h.gw.deps.sql.get('SELECT COALESCE(SUM(c.balance_nano / a.rates), 0) AS v FROM cards c JOIN accounts a ON a.id = c.account_id')) as { v: number }
  return r.v
}

test('random operation sequences keep the books', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
      const top = await h.child(h.gw.rootKey, { CreditGranted: 500 })
      const nodes: Node[] = [{ id: top.id, key: top.key, parent: 1, rates: 1, alive: true }]
      const byId = (id: number) => nodes.find((n) => n.id === id)
      for (const o of ops) {
        if (o.kind === 'wait') {
          h.clock.advance(o.days * DAY_MS)
          continue
        }
        // A delete picks below the top account of the run, which stays to hold the rest.
        const alive = nodes.filter((n) => n.alive && (o.kind !== 'delete' || n.id !== top.id))
        if (alive.length === 0) continue
        const target = alive[o.at % alive.length]!
        const parentKey =
          target.parent === 1 || ('byRoot' in o && o.byRoot)
            ? h.gw.rootKey
            : byId(target.parent)!.key
        const before = await realTotal()
        let minted = 0
        let r
        switch (o.kind) {
          case 'create': {
            const name = h.uniq('prop')
            const rates = Math.max(o.rates, target.rates)
            r = await h.req('POST', '/x-users', target.key, {
              Name: name,
              Email: `${name}@example.com`,
              CreditGranted: o.credit,
              Rates: rates,
            })
            if (r.status === 200)
              nodes.push({
                id: r.body.User.ID,
                key: r.body.User.SecretKey,
                parent: target.id,
                rates,
                alive: true,
              })
            break
          }
          case 'fund':
            r = await h.req('PUT', `/x-users/${target.id}`, parentKey, {
              CreditGranted: o.cents / 100,
              ...(o.days ? { Days: o.days } : {}),
            })
            if (r.status === 200 && parentKey === h.gw.rootKey)
              minted = ((o.cents / 100) * 1e9) / target.rates
            break
          case 'deduct':
            r = await h.req('PUT', `/x-users/${target.id}`, parentKey, {
              CreditGranted: -o.cents / 100,
            })
            break
          case 'rerate':
            r = await h.req('PUT', `/x-users/${target.id}`, parentKey, { Rates: o.rates })
            if (r.status === 200) target.rates = o.rates
            break
          case 'delete':
            r = await h.req('DELETE', `/x-users/${target.id}`, parentKey)
            if (r.status === 200) {
              const gone = (n: Node): boolean =>
                n.id === target.id || (n.parent !== 1 && gone(byId(n.parent)!))
              for (const n of nodes) if (gone(n)) n.alive = false
            }
            break
        }
        expect([200, 400, 402], `${JSON.stringify(o)}: ${r.text}`).toContain(r.status)
        await expectInvariant(h.gw)
        const negative = (await h.gw.deps.sql.get('SELECT COUNT(*) AS n FROM cards WHERE balance_nano < 0 OR amount_nano < 0')) as { n: number }
        expect(negative.n, `negative card after ${JSON.stringify(o)}`).toBe(0)
        // Rounding to the nano may move a unit or two per card; money is never created beyond that.
        expect(await realTotal(), `money created by ${JSON.stringify(o)}: ${r.text}`).toBeLessThanOrEqual(
          before + minted + 30,
        )
      }
    }),
    { numRuns: 80 },
  )
}, 120_000)
