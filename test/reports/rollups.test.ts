import { afterAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { createReportsRepo } from '../../src/reports/repo'
import { pruneUsage } from '../../src/reports/prune'
import { percentages } from '../../src/reports/service'
import { addAccount, addUsage, makeApp } from './fixtures'

const t = await makeApp()
afterAll(() => t.close())
const a = await addAccount(t, null)
const b = await addAccount(t, a.account)
const c = await addAccount(t, b.account)
const d = await addAccount(t, a.account)
const ids = [a, b, c, d].map((x) => x.account.id)
const repo = createReportsRepo(t.deps.sql)
const DAYS = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05']

type Row = {
  day: string
  model: string
  requests: number
  cost_nano: number
  prompt_tokens: number
}

/** Straight from usage_daily: what the rollups must always agree with. */
async function direct(dnaPrefix: string, strict: string | null, s: string, e: string) {
  const rows = (await t.deps.sql.all(`SELECT u.day, u.model, CAST(SUM(u.requests) AS BIGINT) AS requests, CAST(SUM(u.cost_nano) AS BIGINT) AS cost_nano,
        CAST(SUM(u.prompt_tokens) AS BIGINT) AS prompt_tokens
      FROM usage_daily u JOIN accounts x ON x.id = u.account_id
      WHERE x.dna LIKE ? AND x.dna <> ? AND u.day BETWEEN ? AND ? GROUP BY u.day, u.model`, [`${dnaPrefix}%`, strict ?? '', s, e])) as Row[]
  return rows.filter((r) => r.requests !== 0 || r.cost_nano !== 0 || r.prompt_tokens !== 0)
}

const norm = (rows: Row[]) =>
  rows
    .filter((r) => r.requests !== 0 || r.cost_nano !== 0 || r.prompt_tokens !== 0)
    .map((r) => `${r.day} ${r.model} ${r.requests} ${r.cost_nano} ${r.prompt_tokens}`)
    .sort()

describe('usage rollups follow usage_daily through inserts, updates and deletes', () => {
  test('random writes in any day order', async () => {
    const op = fc.record({
      kind: fc.constantFrom('add', 'add', 'add', 'delete'),
      day: fc.constantFrom(...DAYS),
      account: fc.constantFrom(...ids),
      model: fc.constantFrom('m1', 'm2'),
      requests: fc.integer({ min: 1, max: 9 }),
      cost: fc.integer({ min: 0, max: 5_000_000 }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        for (const o of ops) {
          if (o.kind === 'add') {
            await addUsage(t, o.day, o.account, o.model, {
              requests: o.requests,
              costNano: o.cost,
              prompt: o.requests * 3,
            })
          } else {
            await t.deps.sql.run('DELETE FROM usage_daily WHERE day = ? AND account_id = ? AND model = ?', [o.day, o.account, o.model])
          }
        }
        const [s, e] = ['2026-01-02', '2026-01-04']
        for (const top of [a.account, b.account]) {
          const desc = await repo.series({ kind: 'descendants', ancestor: top }, s, e)
          expect(norm(desc)).toEqual(norm(await direct(top.dna, top.dna, s, e)))
        }
        // Totals from running sums equal the direct sums per account.
        const totals = await repo.totals({ kind: 'subtree', top: a.account }, s, e)
        for (const id of ids) {
          const want = (await t.deps.sql.get(`SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS r, CAST(COALESCE(SUM(cost_nano), 0) AS BIGINT) AS c FROM usage_daily
              WHERE account_id = ? AND day BETWEEN ? AND ?`, [id, s, e])) as { r: number; c: number }
          const got = totals.find((x) => x.id === id)
          expect({ r: got?.requests ?? 0, c: got?.cost_nano ?? 0 }).toEqual(want)
        }
      }),
      { numRuns: 60 },
    )
  })

  test('an update that moves a row to another key moves its usage', async () => {
    await t.deps.sql.run('DELETE FROM usage_daily')
    await addUsage(t, '2026-01-02', c.account.id, 'm1', { requests: 5, costNano: 50 })
    await t.deps.sql.run("UPDATE usage_daily SET day = '2026-01-03', model = 'm2' WHERE account_id = ?", [c.account.id])
    const rows = norm(
      await repo.series({ kind: 'descendants', ancestor: a.account }, '2026-01-01', '2026-01-05'),
    )
    expect(rows).toEqual(['2026-01-03 m2 5 50 100'])
  })
})

describe('percentages', () => {
  test('two decimals that sum to exactly 100 by largest remainder', () => {
    expect(percentages([1, 1, 1])).toEqual([33.34, 33.33, 33.33])
    expect(percentages([5, 2, 4])).toEqual([45.46, 18.18, 36.36])
    expect(percentages([7])).toEqual([100])
    expect(percentages([0, 0])).toEqual([0, 0])
    expect(percentages([])).toEqual([])
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 50 }), { minLength: 1, maxLength: 50 }),
        (xs) => {
          const p = percentages(xs)
          const hundredths = p.reduce((s, x) => s + Math.round(x * 100), 0)
          expect(hundredths).toBe(xs.some((x) => x > 0) ? 10_000 : 0)
          for (const x of p) expect(x).toBeGreaterThanOrEqual(0)
        },
      ),
    )
  })
})

describe('usage record retention', () => {
  test('records older than USAGE_RETENTION_DAYS go, newer ones stay', async () => {
    const now = t.deps.clock.now()
    const rows = Array.from({ length: 12_000 }, (_, i) => [`old${i}`, now - 91 * 86_400_000 - i])
    rows.push(['fresh', now - 89 * 86_400_000])
    // 500 rows a statement: one transaction, a few dozen statements.
    await t.deps.sql.tx(async (tx) => {
      for (let i = 0; i < rows.length; i += 500) {
        const part = rows.slice(i, i + 500)
        await tx.run(
          `INSERT INTO usage_records (request_id, created_at, account_id, endpoint, status) VALUES ${part.map(() => "(?, ?, ?, '/v1/chat/completions', 200)").join(', ')}`,
          part.flatMap(([id, at]) => [id, at, ids[0]!]),
        )
      }
    })
    expect(await pruneUsage(repo, now, 90)).toBe(12_000)
    const left = (await t.deps.sql.all('SELECT request_id FROM usage_records')) as Array<{
      request_id: string
    }>
    expect(left.map((r) => r.request_id)).toEqual(['fresh'])
    expect(await pruneUsage(repo, now, 90)).toBe(0)
  })
})
