import { afterAll, describe, expect, test } from 'bun:test'
import { generateKey } from '../../src/shared/ids'
import { addAccount, addUsage, call, makeApp } from './fixtures'

// Tree: root ─ alice ─ amy (level 2) ─ ann
//                     └ abe
//            └ bob
const t = await makeApp()
afterAll(() => t.close())
const alice = await addAccount(t, null, { name: 'alice' })
const amy = await addAccount(t, alice.account, { name: 'amyyy', level: 2 })
const ann = await addAccount(t, amy.account, { name: 'annnn' })
const abe = await addAccount(t, alice.account, { name: 'abeee' })
const bob = await addAccount(t, null, { name: 'bobbb' })

const M = 1_000_000 // nano-USD
await addUsage(t, '2026-01-02', amy.account.id, 'gpt-4o', {
  requests: 3,
  prompt: 300,
  completion: 30,
  cached: 10,
  costNano: 3 * M,
})
await addUsage(t, '2026-01-02', amy.account.id, 'claude-3', {
  requests: 1,
  prompt: 100,
  completion: 10,
  cacheWrite: 30,
  costNano: 5 * M,
})
await addUsage(t, '2026-01-02', amy.account.id, 'gpt-4o', {
  requests: 1,
  prompt: 100,
  completion: 10,
  costNano: 1 * M,
})
await addUsage(t, '2026-01-03', ann.account.id, 'gpt-4o', {
  requests: 2,
  prompt: 200,
  completion: 20,
  cacheWrite: 50,
  costNano: 2 * M,
})
await addUsage(t, '2026-01-03', abe.account.id, 'gpt-4o', {
  requests: 4,
  prompt: 400,
  completion: 40,
  costNano: 1 * M,
})
await addUsage(t, '2026-01-03', alice.account.id, 'gpt-4o', {
  requests: 7,
  cacheWrite: 70,
  costNano: 7 * M,
})
await addUsage(t, '2026-01-03', bob.account.id, 'gpt-4o', { requests: 9, costNano: 9 * M })
await addUsage(t, '2025-12-31', amy.account.id, 'gpt-4o', { requests: 100, costNano: 100 * M })

const dayS = (key: string) => Date.parse(`${key}T00:00:00Z`) / 1000
const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 100) / 100

describe('GET /x-bill shape', () => {
  test('one row per day with per-model details, totals and users', async () => {
    const r = await call(t, 'GET', '/x-bill?s=2026-01-01&e=2026-01-03', { key: alice.key })
    expect(r.status, r.text).toBe(200)
    expect(Object.keys(r.body).sort()).toEqual(['data', 'object', 'total_usage', 'usage_users'])
    expect(r.body.object).toBe('list')
    expect(r.body.data.map((d: any) => d.aggregation_timestamp)).toEqual(
      ['2026-01-01', '2026-01-02', '2026-01-03'].map(dayS),
    )
    expect(r.body.data[0]).toEqual({
      aggregation_timestamp: dayS('2026-01-01'),
      n_requests: 0,
      n_context_tokens_total: 0,
      n_generated_tokens_total: 0,
      n_cached_tokens_total: 0,
      n_cache_write_tokens_total: 0,
      usage_details: {},
    })
    expect(r.body.data[1]).toEqual({
      aggregation_timestamp: dayS('2026-01-02'),
      n_requests: 5,
      n_context_tokens_total: 500,
      n_generated_tokens_total: 50,
      n_cached_tokens_total: 10,
      n_cache_write_tokens_total: 30,
      usage_details: {
        'claude-3': {
          requests: 1,
          prompt: 100,
          completion: 10,
          cached: 0,
          cache_write: 30,
          cost: 0.005,
        },
        'gpt-4o': {
          requests: 4,
          prompt: 400,
          completion: 40,
          cached: 10,
          cache_write: 0,
          cost: 0.004,
        },
      },
    })
    // Alice's own 7 requests (and 70 cache writes) are not her descendants' usage.
    expect(r.body.data[2].n_requests).toBe(6)
    expect(r.body.data[2].n_cache_write_tokens_total).toBe(50)
    expect(r.body.data[2].usage_details).toEqual({
      'gpt-4o': {
        requests: 6,
        prompt: 600,
        completion: 60,
        cached: 0,
        cache_write: 50,
        cost: 0.003,
      },
    })
    expect(r.body.total_usage).toEqual({ requests: 11, cost: 0.012 })
    expect(r.body.usage_users).toEqual([
      {
        id: amy.account.id,
        name: 'amyyy',
        email: 'amyyy@example.com',
        total_requests: 5,
        total_cost: 0.009,
        usage_analysis: { request_percentage: 45.46, cost_percentage: 75 },
      },
      {
        id: ann.account.id,
        name: 'annnn',
        email: 'annnn@example.com',
        total_requests: 2,
        total_cost: 0.002,
        usage_analysis: { request_percentage: 18.18, cost_percentage: 16.67 },
      },
      {
        id: abe.account.id,
        name: 'abeee',
        email: 'abeee@example.com',
        total_requests: 4,
        total_cost: 0.001,
        usage_analysis: { request_percentage: 36.36, cost_percentage: 8.33 },
      },
    ])
    const users = r.body.usage_users
    expect(sum(users.map((u: any) => u.usage_analysis.request_percentage))).toBe(100)
    expect(sum(users.map((u: any) => u.usage_analysis.cost_percentage))).toBe(100)
  })

  test('default range is this month up to today (TZ), aliases and days', async () => {
    const r = await call(t, 'GET', '/x-bill', { key: t.rootKey })
    expect(r.status, r.text).toBe(200)
    expect(r.body.data).toHaveLength(15)
    expect(r.body.data[0].aggregation_timestamp).toBe(dayS('2026-01-01'))
    expect(r.body.total_usage.requests).toBe(5 + 6 + 7 + 9)
    const d = await call(t, 'GET', '/x-bill?date=2025-12-31', { key: t.rootKey })
    expect(d.body.data).toHaveLength(1)
    expect(d.body.total_usage).toEqual({ requests: 100, cost: 0.1 })
    const days = await call(t, 'GET', '/x-bill?days=3&end=2026-01-02', { key: t.rootKey })
    expect(days.body.data.map((x: any) => x.aggregation_timestamp)).toEqual(
      ['2025-12-31', '2026-01-01', '2026-01-02'].map(dayS),
    )
    expect(days.body.total_usage.requests).toBe(105)
    const year = await call(t, 'GET', '/x-bill?days=366', { key: t.rootKey })
    expect(year.status, year.text).toBe(200)
    expect(year.body.data).toHaveLength(366)
  })

  test('a day starts at midnight in TZ', async () => {
    const tokyo = await makeApp({ TZ: 'Asia/Tokyo' })
    try {
      const r = await call(tokyo, 'GET', '/x-bill?d=2026-01-02', { key: tokyo.rootKey })
      expect(r.status, r.text).toBe(200)
      expect(r.body.data[0].aggregation_timestamp).toBe(Date.parse('2026-01-01T15:00:00Z') / 1000)
    } finally {
      await tokyo.close()
    }
  })
})

describe('GET /x-bill scope and u', () => {
  test("a caller sees its descendants only, never its own, a sibling's or an ancestor's usage", async () => {
    const r = await call(t, 'GET', '/x-bill?s=2026-01-01&e=2026-01-03', { key: amy.key })
    expect(r.status, r.text).toBe(200)
    expect(r.body.total_usage).toEqual({ requests: 2, cost: 0.002 })
    expect(r.body.usage_users.map((u: any) => u.id)).toEqual([ann.account.id])
    const leaf = await call(t, 'GET', '/x-bill?s=2026-01-01&e=2026-01-03', { key: ann.key })
    expect(leaf.body.total_usage).toEqual({ requests: 0, cost: 0 })
    expect(leaf.body.usage_users).toEqual([])
  })

  test('u outside the subtree answers 404 whatever the form', async () => {
    for (const u of [
      String(bob.account.id),
      'bobbb',
      'bobbb@example.com',
      bob.account.dna,
      '1',
      'nosuchname',
      '99999',
    ]) {
      const r = await call(t, 'GET', `/x-bill?u=${encodeURIComponent(u)}`, { key: alice.key })
      expect(r.status, `${u}: ${r.text}`).toBe(404)
      expect(r.body.error.code).toBe('not_found')
    }
  })

  test('u by ID, name or e-mail is one account; by DNA its subtree; user= is the same', async () => {
    const q = '&s=2026-01-01&e=2026-01-03'
    for (const u of [String(amy.account.id), 'amyyy', 'AMYYY@example.com']) {
      const r = await call(t, 'GET', `/x-bill?u=${encodeURIComponent(u)}${q}`, { key: alice.key })
      expect(r.status, r.text).toBe(200)
      expect(r.body.total_usage, u).toEqual({ requests: 5, cost: 0.009 })
      expect(r.body.usage_users.map((x: any) => x.id)).toEqual([amy.account.id])
    }
    const sub = await call(t, 'GET', `/x-bill?user=${amy.account.dna}${q}`, { key: alice.key })
    expect(sub.body.total_usage).toEqual({ requests: 7, cost: 0.011 })
    expect(sub.body.usage_users.map((x: any) => x.id)).toEqual([amy.account.id, ann.account.id])
    // A DNA subtree: amy's own cache writes (30 on the 2nd) and ann's below her (50 on the 3rd).
    expect(sub.body.data.map((d: any) => d.n_cache_write_tokens_total)).toEqual([0, 30, 50])
    const self = await call(t, 'GET', `/x-bill?u=alice${q}`, { key: alice.key })
    expect(self.body.total_usage).toEqual({ requests: 7, cost: 0.007 })
  })

  test('u as a filter L/G/R/T/F{n} covers matching descendants', async () => {
    const r = await call(t, 'GET', '/x-bill?u=L2&s=2026-01-01&e=2026-01-03', { key: alice.key })
    expect(r.status, r.text).toBe(200)
    expect(r.body.usage_users.map((x: any) => x.id)).toEqual([amy.account.id])
    expect(r.body.total_usage.requests).toBe(5)
    expect(r.body.data[1].usage_details['claude-3'].cache_write).toBe(30)
    const none = await call(t, 'GET', '/x-bill?u=G7&s=2026-01-01&e=2026-01-03', { key: alice.key })
    expect(none.body.total_usage.requests).toBe(0)
  })

  test("a deleted account stays in its ancestors' reports under its last name", async () => {
    const gone = await addAccount(t, alice.account, { name: 'gonee', creditUsd: 0 })
    await addUsage(t, '2026-01-10', gone.account.id, 'gpt-4o', { requests: 1, costNano: M })
    await t.deps.sql.run('DELETE FROM accounts WHERE id = ?', [gone.account.id])
    const r = await call(t, 'GET', '/x-bill?d=2026-01-10', { key: alice.key })
    expect(r.body.usage_users).toEqual([
      expect.objectContaining({ id: gone.account.id, name: 'gonee', total_requests: 1 }),
    ])
  })
})

describe('GET /x-bill errors', () => {
  const bad: Array<[string, string]> = [
    ['d=2026-02-30', 'd'],
    ['date=yesterday', 'd'],
    ['s=2026-1-1', 's'],
    ['e=2026-13-01', 'e'],
    ['s=2026-01-05&e=2026-01-04', 's'],
    ['s=2024-01-01&e=2025-01-02', 's'],
    ['days=0', 'days'],
    ['days=367', 'days'],
    ['days=2.5', 'days'],
    ['d=2026-01-01&s=2026-01-01', 'd'],
    ['days=3&s=2026-01-01&e=2026-01-03', 'days'],
    ['s=2026-01-01&start=2026-01-02', 's'],
  ]
  for (const [q, param] of bad) {
    test(`${q} → 400 naming ${param}`, async () => {
      const r = await call(t, 'GET', `/x-bill?${q}`, { key: t.rootKey })
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.code).toBe('bad_request')
      expect(r.body.error.message.startsWith(`${param}`), r.text).toBe(true)
    })
  }

  test('a wrong or missing key is 401', async () => {
    expect((await call(t, 'GET', '/x-bill', { key: generateKey() })).status).toBe(401)
    expect((await call(t, 'GET', '/x-bill')).status).toBe(401)
    expect((await call(t, 'GET', '/dashboard/bill', { key: generateKey() })).status).toBe(401)
  })

  test('a 366-day range is accepted, 367 is not', async () => {
    expect(
      (await call(t, 'GET', '/x-bill?s=2024-01-01&e=2024-12-31', { key: t.rootKey })).status,
    ).toBe(200)
    expect(
      (await call(t, 'GET', '/x-bill?s=2024-01-01&e=2025-01-01', { key: t.rootKey })).status,
    ).toBe(400)
  })
})

describe('GET /dashboard/bill', () => {
  test("the caller's own usage in the same shape", async () => {
    const r = await call(t, 'GET', '/dashboard/bill?s=2026-01-01&e=2026-01-03', { key: alice.key })
    expect(r.status, r.text).toBe(200)
    expect(r.body.object).toBe('list')
    expect(r.body.data).toHaveLength(3)
    expect(r.body.data[2].n_cache_write_tokens_total).toBe(70)
    expect(r.body.data[2].usage_details).toEqual({
      'gpt-4o': {
        requests: 7,
        prompt: 100,
        completion: 50,
        cached: 0,
        cache_write: 70,
        cost: 0.007,
      },
    })
    expect(r.body.total_usage).toEqual({ requests: 7, cost: 0.007 })
    expect(r.body.usage_users).toEqual([
      {
        id: alice.account.id,
        name: 'alice',
        email: 'alice@example.com',
        total_requests: 7,
        total_cost: 0.007,
        usage_analysis: { request_percentage: 100, cost_percentage: 100 },
      },
    ])
  })

  test('bad dates are 400 here too', async () => {
    const r = await call(t, 'GET', '/dashboard/bill?e=2026-02-29', { key: alice.key })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.message).toStartWith('e')
  })
})
