// GET /dashboard/x-user-logs: who sees which operations, filters, paging, bad queries, shape.
import { beforeAll, describe, expect, test } from 'bun:test'
import { useGateway } from '../accounts/helpers'

const h = useGateway()

type Acc = { id: number; name: string; key: string }
let A: Acc, A1: Acc, B: Acc

beforeAll(async () => {
  A = await h.child(h.gw.rootKey, { CreditGranted: 1000 })
  B = await h.child(h.gw.rootKey, { CreditGranted: 1000 })
  A1 = await h.child(A.key, { CreditGranted: 100 })
  await h.req('PUT', `/x-users/${A1.id}`, A.key, { CreditGranted: 10 })
  await h.req('PUT', `/x-users/${A1.id}`, h.gw.rootKey, { Tier: 3 })
  await h.child(B.key, { CreditGranted: 50 })
})

const logs = (key: string, q = '') => h.req('GET', `/dashboard/x-user-logs${q}`, key)

describe('visibility', () => {
  test('an account sees what it did and what targeted its subtree, newest first', async () => {
    const r = await logs(A.key)
    expect(r.status, r.text).toBe(200)
    const rows = r.body.logs.map((l: any) => [l.action, l.operator_id, l.target_id])
    expect(rows, r.text).toEqual([
      ['update_user', 1, A1.id],
      ['recharge', A.id, A1.id],
      ['add_user', A.id, A1.id],
      ['add_user', 1, A.id],
    ])
    expect(r.body, r.text).toMatchObject({ total: 4, page: 1, size: 24, has_more: false })
  })

  test("nothing of a sibling's subtree shows", async () => {
    const r = await logs(A.key)
    for (const l of r.body.logs) expect([A.id, A1.id], r.text).toContain(l.target_id)
    const b = await logs(B.key)
    expect(
      b.body.logs.some((l: any) => l.target_id === A1.id),
      b.text,
    ).toBe(false)
  })

  test('root sees everything', async () => {
    const r = await logs(h.gw.rootKey, '?size=100')
    const all = (await h.gw.deps.sql.get('SELECT COUNT(*) AS n FROM op_logs')) as { n: number }
    expect(r.body.total, r.text).toBe(all.n)
  })
})

describe('filters and paging', () => {
  test('action, target_id and status narrow the rows', async () => {
    const r = await logs(A.key, '?action=recharge')
    expect(
      r.body.logs.map((l: any) => l.action),
      r.text,
    ).toEqual(['recharge'])
    expect(r.body.logs[0].data, r.text).toMatchObject({ amount: 10, cost: 10, name: A1.name })
    expect(r.body.logs[0].details, r.text).toBe(
      `Recharged user ${A1.name} with 10 USD valid 365 days (cost 10 USD)`,
    )
    const t = await logs(A.key, `?target_id=${A.id}`)
    expect(
      t.body.logs.map((l: any) => l.action),
      t.text,
    ).toEqual(['add_user'])
    const f = await logs(A.key, '?status=failure')
    expect(f.body, f.text).toMatchObject({ logs: [], total: 0, has_more: false })
  })

  test('page and size with has_more', async () => {
    const p1 = await logs(A.key, '?size=3')
    expect(p1.body, p1.text).toMatchObject({ page: 1, size: 3, total: 4, has_more: true })
    expect(p1.body.logs.length).toBe(3)
    const p2 = await logs(A.key, '?size=3&page=2')
    expect(p2.body, p2.text).toMatchObject({ page: 2, has_more: false })
    expect(p2.body.logs.length).toBe(1)
    expect(p2.body.logs[0].id).toBeLessThan(p1.body.logs[2].id)
  })

  test('entries carry id, action, operator_id, target_id, details, data, created_at', async () => {
    const r = await logs(A.key, '?size=1')
    const l = r.body.logs[0]
    expect(Object.keys(l).sort(), r.text).toEqual([
      'action',
      'created_at',
      'data',
      'details',
      'id',
      'operator_id',
      'status',
      'target_id',
    ])
    // YYYY-MM-DD HH:MM:SS in TZ (UTC in these tests).
    expect(`${l.created_at.replace(' ', 'T')}.000Z`).toBe(new Date(h.clock.now()).toISOString())
  })

  for (const q of [
    'size=101',
    'size=0',
    'page=0',
    'action=steal',
    'status=maybe',
    'target_id=0',
    'page=x',
  ]) {
    test(`${q} is a 400 naming the parameter`, async () => {
      const r = await logs(A.key, `?${q}`)
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.message, r.text).toContain(q.split('=')[0]!)
    })
  }

  test('a wrong key is 401', async () => {
    const r = await logs('sk-Xvs' + 'Q'.repeat(45))
    expect(r.status, r.text).toBe(401)
  })
})
