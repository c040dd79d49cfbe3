// GET /x-users and /x-dna: paging and its headers, query filters, path filters L/G/R/T/F{n},
// the order of the answers, and bad queries.
import { beforeAll, describe, expect, test } from 'bun:test'
import { useGateway } from './helpers'

const h = useGateway()

type Acc = { id: number; name: string; key: string }
let top: Acc
const kids: Acc[] = []
const grandkids: Acc[] = []

beforeAll(async () => {
  top = await h.child(h.gw.rootKey, { CreditGranted: 10000 })
  for (let i = 0; i < 12; i++) {
    kids.push(
      await h.child(top.key, {
        CreditGranted: 30,
        Gear: i % 3,
        Role: i % 2,
        Tier: 7,
        Factor: i === 0 ? 1.5 : 0,
      }),
    )
  }
  for (let i = 0; i < 3; i++)
    grandkids.push(await h.child(kids[0]!.key, { CreditGranted: 5, Gear: 9 }))
})

const ids = (body: any) => (Array.isArray(body) ? body.map((u: any) => u.ID) : body)

describe('paging', () => {
  test('/x-users pages direct children by ID with X-Total-Count, X-Page, X-Per-Page, X-Total-Pages', async () => {
    const seen: number[] = []
    for (let page = 1; page <= 3; page++) {
      const r = await h.req('GET', `/x-users?page=${page}&size=5`, top.key)
      expect(r.status, r.text).toBe(200)
      expect(r.headers.get('x-total-count'), r.text).toBe('12')
      expect(r.headers.get('x-page')).toBe(String(page))
      expect(r.headers.get('x-per-page')).toBe('5')
      expect(r.headers.get('x-total-pages')).toBe('3')
      seen.push(...ids(r.body))
    }
    expect(seen).toEqual(kids.map((k) => k.id))
    const past = await h.req('GET', '/x-users?page=4&size=5', top.key)
    expect(past.body, past.text).toEqual([])
  })

  test('/x-dna lists every descendant in DNA order, each account before its subtree', async () => {
    const r = await h.req('GET', '/x-dna?size=1000', top.key)
    expect(r.status, r.text).toBe(200)
    expect(r.headers.get('x-total-count')).toBe('15')
    const dnas = r.body.map((u: any) => u.DNA)
    expect(dnas, r.text).toEqual([...dnas].sort())
    const at = ids(r.body).indexOf(kids[0]!.id)
    expect(ids(r.body).slice(at + 1, at + 4)).toEqual(grandkids.map((g) => g.id))
  })

  test('defaults are page 1 and size 100', async () => {
    const r = await h.req('GET', '/x-dna', top.key)
    expect(r.headers.get('x-per-page')).toBe('100')
    expect(r.headers.get('x-page')).toBe('1')
  })
})

describe('filters', () => {
  test('query id, name, email, level, dna narrow the list', async () => {
    const k = kids[4]!
    for (const q of [
      `id=${k.id}`,
      `name=${k.name}`,
      `email=${k.name.toUpperCase()}@EXAMPLE.COM`,
      'level=1&id=' + k.id,
    ]) {
      const r = await h.req('GET', `/x-dna?${q}`, top.key)
      expect(ids(r.body), `${q}: ${r.text}`).toEqual([k.id])
    }
    const dna = (await h.get(kids[0]!.id)).DNA
    const sub = await h.req('GET', `/x-dna?dna=${dna}`, top.key)
    expect(ids(sub.body), sub.text).toEqual([kids[0]!.id, ...grandkids.map((g) => g.id)])
    const none = await h.req('GET', '/x-dna?level=5', top.key)
    expect(none.body, none.text).toEqual([])
    expect(none.headers.get('x-total-count')).toBe('0')
  })

  test('path filters G{n} R{n} T{n} F{n} L{n} pick on Gear, Role, Tier, Factor, Level', async () => {
    const g0 = await h.req('GET', '/x-users/G0', top.key)
    expect(ids(g0.body), g0.text).toEqual(kids.filter((_, i) => i % 3 === 0).map((k) => k.id))
    const g9 = await h.req('GET', '/x-dna/G9', top.key)
    expect(ids(g9.body), g9.text).toEqual(grandkids.map((g) => g.id))
    const g9children = await h.req('GET', '/x-users/G9', top.key)
    expect(g9children.body, 'grandchildren are not direct children').toEqual([])
    const r1 = await h.req('GET', '/x-users/R1?size=2&page=2', top.key)
    expect(ids(r1.body), r1.text).toEqual(
      kids
        .filter((_, i) => i % 2 === 1)
        .map((k) => k.id)
        .slice(2, 4),
    )
    expect(r1.headers.get('x-total-count')).toBe('6')
    const t7 = await h.req('GET', '/x-users/T7', top.key)
    expect(t7.body.length, t7.text).toBe(12)
    const f = await h.req('GET', '/x-dna/F1.5', top.key)
    // The grandchildren inherited Factor 1.5 from their parent when they were created.
    expect(ids(f.body), f.text).toEqual([kids[0]!.id, ...grandkids.map((g) => g.id)])
    const l1 = await h.req('GET', '/x-dna/L1', top.key)
    expect(l1.body.length, l1.text).toBe(15)
  })

  test('a filter names no single account: PUT /x-users/L1 is a 400', async () => {
    const r = await h.req('PUT', '/x-users/L1', top.key, { Alias: 'all' })
    expect(r.status, r.text).toBe(400)
  })
})

describe('bad queries', () => {
  for (const q of ['size=0', 'size=1001', 'size=abc', 'page=0', 'page=-1', 'dna=1.2', 'id=x']) {
    test(`${q} is a 400 naming the parameter`, async () => {
      const r = await h.req('GET', `/x-dna?${q}`, top.key)
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.message, r.text).toContain(q.split('=')[0]!)
    })
  }
})

describe('the user object', () => {
  test('carries the stored fields, counters, cards and a masked key', async () => {
    const u = await h.get(kids[0]!.id, top.key)
    expect(u, JSON.stringify(u)).toMatchObject({
      ID: kids[0]!.id,
      Name: kids[0]!.name,
      Child: 3,
      Requests: 0,
      CreditUsed: 0,
      SecretKey: '***',
      Tier: 7,
    })
    expect(u.Balance, JSON.stringify(u)).toBe(30 - 15)
    expect(u.PartialKey).toBe(kids[0]!.key.slice(-8))
    for (const f of [
      'Email',
      'Alias',
      'BillingEmail',
      'Status',
      'DNA',
      'Level',
      'Gear',
      'Role',
      'Factor',
      'Rates',
      'HardLimit',
      'SoftLimit',
      'RPM',
      'RPH',
      'RPD',
      'TPM',
      'TPH',
      'TPD',
      'ModelLimits',
      'AllowIPs',
      'AllowModels',
      'AllowLevels',
      'Resources',
      'ModelMapper',
      'LevelMapper',
      'ChildLimit',
      'CreatedAt',
      'UpdatedAt',
      'CreditBalance',
    ]) {
      expect(u, `field ${f}`).toHaveProperty(f)
    }
  })

  test('Requests and CreditUsed come from the usage aggregates', async () => {
    const k = kids[5]!
    await h.gw.deps.sql.run('INSERT INTO usage_daily (day, account_id, model, requests, cost_nano) VALUES (?, ?, ?, ?, ?)', ['2026-01-14', k.id, 'gpt-4o', 7, 1_250_000_000])
    const u = await h.get(k.id, top.key)
    expect([u.Requests, u.CreditUsed], JSON.stringify(u)).toEqual([7, 1.25])
  })
})
