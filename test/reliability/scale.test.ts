// Correctness at scale (the quick version of scripts/scale.ts): 5,000 accounts 6 deep and 50,000
// calls over a year through the settler and the flusher. Authentication and access lists at every
// depth, /x-dna paging that returns each descendant once in DNA order, /x-bill totals equal to the
// sum of the records. No timings are asserted.
import { afterAll, describe, expect, test } from 'bun:test'
import { createFakeClock } from '../../src/shared/clock'
import { makeTestApp } from '../helpers/app'
import { buildTree, SHAPES, spread, writeUsage, type Member } from '../helpers/scale'

const START_MS = Date.UTC(2025, 0, 1)
const YEAR = 's=2025-01-01&e=2025-12-31'
const RECORDS = 50_000
const clock = createFakeClock(START_MS)
const t = await makeTestApp({}, { clock })
afterAll(() => t.close())
const tree = await buildTree(t.deps, SHAPES.small)
const users = spread(tree.members, 1_000)
const usage = await writeUsage(t.deps, clock, {
  records: RECORDS,
  accounts: users,
  startMs: START_MS,
  days: 365,
  models: ['gpt-4o-mini', 'gpt-4.1', 'claude-sonnet-4-0'],
})
clock.set(Date.UTC(2025, 11, 31, 18))

async function get(path: string, key: string) {
  const res = await t.app.handle(t.request('GET', path, { key }))
  const text = await res.text()
  expect(res.status, `${path}: ${text.slice(0, 300)}`).toBe(200)
  return { body: JSON.parse(text), headers: res.headers }
}

/** Every page of /x-dna?size=1000 for a caller, in order. */
async function allPages(key: string) {
  const first = await get('/x-dna?size=1000', key)
  const pages = Number(first.headers.get('x-total-pages'))
  const total = Number(first.headers.get('x-total-count'))
  const rows: Array<{ ID: number; DNA: string }> = [...first.body]
  for (let p = 2; p <= pages; p++) rows.push(...(await get(`/x-dna?size=1000&page=${p}`, key)).body)
  const beyond = await get(`/x-dna?size=1000&page=${pages + 1}`, key)
  return { rows, total, pages, beyond: beyond.body as unknown[] }
}

const nanoOf = (usd: number) => Math.round(usd * 1e9)

describe('5,000 accounts 6 deep', () => {
  test('the tree has the shape asked for, each DNA one step below its parent', async () => {
    expect(await t.deps.accounts.repo.count()).toBe(SHAPES.small.total + 1)
    expect(tree.byDepth.map((l) => l.length)).toEqual([0, 3, 9, 27, 81, 243, 4_637])
    for (const [d, level] of tree.byDepth.entries()) {
      for (const m of level) expect(m.dna.split('.').filter(Boolean).length, m.dna).toBe(d + 1)
    }
  })

  test('every depth authenticates, cold and warm, and is narrowed by its ancestors', async () => {
    const { auth, tree: accounts } = t.deps.accounts
    const policies = t.deps.proxy.policies
    for (let d = 1; d <= 6; d++) {
      const level = tree.byDepth[d]!
      for (const m of [level[0]!, level[Math.floor(level.length / 2)]!, level.at(-1)!]) {
        auth.invalidate(m.id)
        const status = await get('/dashboard/x-user-status', m.key)
        expect(status.body).toMatchObject({ id: m.id, dna: m.dna })
        const headers = new Headers({ 'x-api-key': m.key })
        const a = await auth.authenticate(headers)
        expect(await auth.authenticate(headers)).toBe(a)
        const p = policies.of(a)
        expect(p.enabled).toBe(true)
        // Depth 1 allows gpt-* and claude-*, depth 2 narrows IPs, depth 3 resources (see
        // helpers/scale.ts); deeper accounts inherit all three.
        expect(p.modelAllowed('gpt-4o-mini')).toBe(true)
        expect(p.modelAllowed('o3')).toBe(false)
        expect(p.ipAllowed('192.168.1.9')).toBe(d < 2)
        expect(p.ipAllowed('127.0.0.1')).toBe(true)
        expect(p.resourceAllowed('/dashboard/bill')).toBe(d < 3)
        expect(accounts.view(m.id)?.limitChain.map((x) => x.id)).toEqual(
          m.dna.split('.').filter(Boolean).map(Number).slice(1).reverse(),
        )
      }
    }
  })

  test('a disabled depth-2 account shuts out its depth-6 descendants', async () => {
    const top = tree.byDepth[2]![4]!
    const deep = tree.byDepth[6]!.find((m) => m.dna.startsWith(top.dna))!
    const root = (await t.deps.accounts.repo.findById(1))!
    const headers = new Headers({ 'x-api-key': deep.key })
    const { service, auth } = t.deps.accounts
    const policyOf = async () => {
      const a = await auth.authenticate(headers)
      await t.deps.proxy.warm(a)
      return t.deps.proxy.policies.of(a)
    }
    expect((await policyOf()).enabled).toBe(true)
    await service.update(root, String(top.id), { Status: false })
    try {
      expect((await policyOf()).enabled).toBe(false)
    } finally {
      await service.update(root, String(top.id), { Status: true })
    }
  })

  const expectDnaPages = (
    got: Awaited<ReturnType<typeof allPages>>,
    expected: readonly Member[],
  ) => {
    const dnas = expected.map((m) => m.dna).sort()
    expect(got.total).toBe(expected.length)
    expect(got.pages).toBe(Math.ceil(expected.length / 1000))
    expect(got.rows.length).toBe(expected.length)
    expect(new Set(got.rows.map((r) => r.ID)).size).toBe(expected.length)
    expect(got.rows.map((r) => r.DNA)).toEqual(dnas)
    expect(got.beyond).toEqual([])
  }

  test('/x-dna pages as root return every descendant once, in DNA order', async () => {
    const got = await allPages(t.rootKey)
    expectDnaPages(got, tree.members)
    // DNA order puts each account before its subtree.
    const seen = new Set<string>()
    for (const r of got.rows) {
      const parent = r.DNA.replace(/\d+\.$/, '')
      if (parent !== '.1.') expect(seen.has(parent), r.DNA).toBe(true)
      seen.add(r.DNA)
    }
  })

  test('/x-dna pages as a depth-1 and a depth-2 account cover exactly their subtrees', async () => {
    for (const caller of [tree.byDepth[1]![1]!, tree.byDepth[2]![5]!]) {
      const mine = tree.members.filter((m) => m.dna.startsWith(caller.dna) && m.id !== caller.id)
      expectDnaPages(await allPages(caller.key), mine)
    }
  })
})

describe('50,000 calls over a year', () => {
  test('every call is one usage record and one ledger charge; cards still equal the ledger', async () => {
    const count = async (sql: string) => (await t.store.sql.get<{ n: number }>(sql))!.n
    expect(await count('SELECT COUNT(*) AS n FROM usage_records')).toBe(RECORDS)
    expect(await count("SELECT COUNT(*) AS n FROM ledger WHERE reason = 'usage'")).toBe(RECORDS)
    expect(await count('SELECT CAST(COALESCE(SUM(cost_nano), 0) AS BIGINT) AS n FROM usage_records')).toBe(usage.costNano)
    expect(await t.deps.accounts.service.cards.invariantViolations()).toEqual([])
  })

  test("a year of /x-bill as root: totals, days and each account's share match", async () => {
    const { body } = await get(`/x-bill?${YEAR}`, t.rootKey)
    expect(body.data.length).toBe(365)
    expect(body.total_usage.requests).toBe(RECORDS)
    expect(nanoOf(body.total_usage.cost)).toBe(usage.costNano)
    const perDay = body.data.reduce((n: number, d: { n_requests: number }) => n + d.n_requests, 0)
    expect(perDay).toBe(RECORDS)
    expect(body.usage_users.length).toBe(users.length)
    for (const u of body.usage_users) {
      const want = usage.perAccount.get(u.id)
      expect(want, `account ${u.id}`).toBeDefined()
      expect([u.total_requests, nanoOf(u.total_cost)]).toEqual([want!.requests, want!.costNano])
    }
  })

  test('/x-bill as a depth-1 account and /dashboard/bill agree with the records', async () => {
    const caller = tree.byDepth[1]![0]!
    const below = users.filter((m) => m.dna.startsWith(caller.dna) && m.id !== caller.id)
    const sum = below.reduce(
      (s, m) => {
        const u = usage.perAccount.get(m.id)!
        return { requests: s.requests + u.requests, costNano: s.costNano + u.costNano }
      },
      { requests: 0, costNano: 0 },
    )
    const sub = (await get(`/x-bill?${YEAR}`, caller.key)).body
    expect(sub.usage_users.length).toBe(below.length)
    expect([sub.total_usage.requests, nanoOf(sub.total_usage.cost)]).toEqual([
      sum.requests,
      sum.costNano,
    ])
    const one = users.find((m) => m.depth === 6)!
    const own = (await get(`/dashboard/bill?${YEAR}`, one.key)).body
    const want = usage.perAccount.get(one.id)!
    expect([own.total_usage.requests, nanoOf(own.total_usage.cost)]).toEqual([
      want.requests,
      want.costNano,
    ])
  })
})
