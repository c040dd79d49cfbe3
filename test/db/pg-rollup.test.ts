// PostgreSQL schema v10: the report rollups kept by statement triggers over transition tables.
// Judged two ways: against a recomputation from usage_daily (when every account with usage has its
// account row), and against the row triggers of versions 4–9 under the same random writes.
import { afterAll, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import fc from 'fast-check'
import { createBillingRepo } from '../../src/billing/repo'
import { postgresSql } from '../../src/db/postgres'
import { PG_MIGRATIONS, PG_ONLY_VERSIONS } from '../../src/db/schema/pg'
import type { Sql } from '../../src/db/sql'
import { startPostgres } from '../helpers/postgres'
import { daily, rollups } from './rollup-rows'

const pg = await startPostgres()
const opened: Array<{ close(): Promise<void> }> = []
afterAll(async () => {
  for (const c of opened) await c.close()
  await pg.stop()
})

const STATEMENT_VERSION = PG_MIGRATIONS.find((m) => m.name.includes('per statement'))!.version

/** A fresh database with the versions up to `upto` applied (all by default). */
async function migrated(upto = PG_MIGRATIONS.length) {
  const url = await pg.createDatabase('rollup')
  const raw = new SQL({ url, max: 1 })
  for (const m of PG_MIGRATIONS.slice(0, upto)) await raw.begin((tx) => tx.unsafe(m.sql))
  await raw.close()
  const db = postgresSql(url)
  opened.push(db)
  return { db, url }
}

// root 1 → 2 → 3, 1 → 4; 99 has usage and no account row (only in the comparison with v4–v9).
const ACCOUNTS = `INSERT INTO accounts (id, name, email, alias, dna, key_hash, key_tail, created_at, updated_at)
  VALUES (1, 'a', 'a@x', 'a', '.1.', 'h1', 't1', 0, 0), (2, 'b', 'b@x', 'b', '.1.2.', 'h2', 't2', 0, 0),
    (3, 'c', 'c@x', 'c', '.1.2.3.', 'h3', 't3', 0, 0), (4, 'd', 'd@x', 'd', '.1.4.', 'h4', 't4', 0, 0)`
const DAYS = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-05', '2026-01-10']
const MODELS = ['m1', 'm2', 'm3']



const COLS = ['requests', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_nano']

/**
 * The rollups recomputed from usage_daily and accounts (every account with usage has a row). Rows
 * the triggers keep after their usage went (a subtree row of zeros, a running total of a day with no
 * usage left) stay: zero subtree rows are left out, and each running total must equal the sum through
 * its day.
 */
async function checkRecomputed(sql: Sql) {
  const got = await rollups(sql)
  const sums = COLS.map((c) => `SUM(u.${c})::bigint AS ${c}`).join(', ')
  const tree = await sql.all(`SELECT j.id AS ancestor_id, u.day, u.model, ${sums}
    FROM usage_daily u JOIN accounts a ON a.id = u.account_id,
      unnest(string_to_array(btrim(a.dna, '.'), '.')::bigint[]) AS j(id)
    WHERE j.id <> u.account_id GROUP BY j.id, u.day, u.model ORDER BY 1, 2, 3`)
  expect(got.tree.filter((r) => COLS.some((c) => r[c] !== 0))).toEqual(tree.filter((r) => COLS.some((c) => r[c] !== 0)))
  const through = (c: string) => `(SELECT COALESCE(SUM(u.${c}), 0)::bigint FROM usage_daily u
    WHERE u.account_id = c.account_id AND u.day <= c.day) AS ${c}`
  expect(got.cum).toEqual(await sql.all(`SELECT c.account_id, c.day, ${through('requests')}, ${through('cost_nano')}
    FROM usage_cum c ORDER BY c.account_id, c.day`))
  const uncounted = 'SELECT DISTINCT account_id, day FROM usage_daily EXCEPT SELECT account_id, day FROM usage_cum'
  expect(await sql.all(uncounted)).toEqual([])
  expect(got.accounts).toEqual(await sql.all(`SELECT id AS account_id, dna, name, email FROM accounts
    WHERE id IN (SELECT account_id FROM usage_daily) OR id IN (SELECT account_id FROM usage_cum) ORDER BY id`))
  return got
}

describe('usage rollups per statement (PostgreSQL v10)', () => {
  test('v10 is PostgreSQL-only and replaces the row triggers with statement triggers', async () => {
    expect(PG_ONLY_VERSIONS).toEqual([STATEMENT_VERSION])
    const { db } = await migrated()
    const triggers = await db.all(`SELECT tgname, (tgtype & 1) AS per_row,
        tgoldtable IS NOT NULL AS old_table, tgnewtable IS NOT NULL AS new_table
      FROM pg_trigger WHERE tgrelid = 'usage_daily'::regclass AND NOT tgisinternal ORDER BY tgname`)
    expect(triggers).toEqual([
      { tgname: 'usage_daily_rollup_delete', per_row: 0, old_table: true, new_table: false },
      { tgname: 'usage_daily_rollup_insert', per_row: 0, old_table: false, new_table: true },
      { tgname: 'usage_daily_rollup_turn', per_row: 0, old_table: false, new_table: false },
      { tgname: 'usage_daily_rollup_update', per_row: 0, old_table: true, new_table: true },
    ])
    expect(await db.all("SELECT 1 FROM pg_proc WHERE proname IN ('usage_rollup_add', 'usage_daily_rollup')")).toEqual([])
  })

  test('upserting the same keys twice in one transaction (statements that insert and update at once) counts each row once', async () => {
    const { db } = await migrated()
    await db.exec(ACCOUNTS)
    // 75 keys: statements of 64, 8, 1, 1, 1; then 60 of them again with 20 new keys, so the 64-row
    // statement both inserts and updates; then one raw statement of four rows, half of them new.
    const days = Array.from({ length: 8 }, (_, i) => `2026-02-0${i + 1}`)
    const keys = days.flatMap((day) => [1, 2, 3, 4].flatMap((a) => MODELS.map((m) => ({ day, a, m }))))
    const first = keys.slice(0, 75).map((k, i) => daily(k.day, k.a, k.m, 1 + (i % 7), i * 1_000_003))
    const again = [...keys.slice(15, 75), ...keys.slice(75, 95)].map((k, i) => daily(k.day, k.a, k.m, 2 + (i % 5), 2 ** 40 + i))
    await db.tx(async (tx) => {
      await createBillingRepo(tx).addDaily(first)
      await createBillingRepo(tx).addDaily(again)
      await tx.run(`INSERT INTO usage_daily (day, account_id, model, requests, cost_nano) VALUES
          ('2026-01-01', 1, 'm1', 5, 7), ('2026-01-04', 3, 'm1', 1, 1), ('2026-01-10', 4, 'm3', 2, 2),
          ('2026-01-11', 2, 'm9', 3, 3)
        ON CONFLICT (day, account_id, model) DO UPDATE SET requests = usage_daily.requests + excluded.requests,
          cost_nano = usage_daily.cost_nano + excluded.cost_nano`)
    })
    const got = await checkRecomputed(db)
    const sum = (rows: Array<Record<string, unknown>>) => rows.reduce((n, r) => n + Number(r.requests), 0)
    const written = [...first, ...again].reduce((n, r) => n + r.requests, 0) + 11
    expect(sum(got.daily)).toBe(written)
    // The root sees every descendant's usage once; account 1's own usage is not in its subtree rows.
    const own = sum(got.daily.filter((r) => r.account_id === 1))
    expect(sum(got.tree.filter((r) => r.ancestor_id === 1))).toBe(written - own)
  })

  test('updates, moves and deletes of many rows per statement keep the rollups equal to a recomputation', async () => {
    const { db } = await migrated()
    await db.exec(ACCOUNTS)
    const rows = DAYS.flatMap((day, d) => [1, 2, 3, 4].flatMap((a) => MODELS.map((m, i) => daily(day, a, m, d + i + a, (d + 1) * a * 1_000_000_007))))
    await createBillingRepo(db).addDaily(rows)
    await checkRecomputed(db)
    const steps = [
      "UPDATE usage_daily SET requests = requests * 3, cost_nano = cost_nano - 5 WHERE model <> 'm2'",
      "UPDATE usage_daily SET day = '2026-01-04' WHERE day = '2026-01-05' AND account_id IN (2, 3)",
      "UPDATE usage_daily SET account_id = 4 WHERE account_id = 3 AND day = '2026-01-04'",
      "UPDATE usage_daily SET model = 'm7', requests = requests + 1 WHERE model = 'm1' AND day >= '2026-01-03'",
      "DELETE FROM usage_daily WHERE account_id = 2 AND day < '2026-01-03'",
      "DELETE FROM usage_daily WHERE model = 'm3'",
      'UPDATE usage_daily SET requests = requests WHERE account_id = 99',
    ]
    for (const s of steps) {
      await db.exec(s)
      await checkRecomputed(db)
    }
    expect((await db.all('SELECT * FROM usage_daily')).length).toBeGreaterThan(10)
  })

  test('the same random writes leave the same rollups as the row triggers of versions 4–9', async () => {
    const rowWise = (await migrated(STATEMENT_VERSION - 1)).db
    const setWise = (await migrated()).db
    for (const sql of [rowWise, setWise]) await sql.exec(ACCOUNTS)
    const ids = [1, 2, 3, 4, 99]
    const key = fc.record({ day: fc.constantFrom(...DAYS), id: fc.constantFrom(...ids), model: fc.constantFrom(...MODELS) })
    const n = fc.integer({ min: 0, max: 9 })
    const cost = fc.integer({ min: -3, max: 5_000_000 }).map((x) => x * 1_000_003)
    const batch = fc.uniqueArray(fc.record({ key, n, cost }), {
      minLength: 1,
      maxLength: 75,
      selector: (r) => `${r.key.day} ${r.key.id} ${r.key.model}`,
    })
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('add' as const), batch }), weight: 4 },
      fc.record({ kind: fc.constant('move' as const), key, to: key }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.constantFrom(...ids), day: fc.constantFrom(...DAYS) }),
      fc.record({ kind: fc.constant('bump' as const), id: fc.constantFrom(...ids), n }),
    )
    type Op = typeof op extends fc.Arbitrary<infer T> ? T : never
    const where = 'WHERE day = ? AND account_id = ? AND model = ?'
    const apply = async (sql: Sql, o: Op) => {
      if (o.kind === 'add')
        return createBillingRepo(sql).addDaily(o.batch.map((r) => daily(r.key.day, r.key.id, r.key.model, r.n, r.cost)))
      if (o.kind === 'delete') return sql.run('DELETE FROM usage_daily WHERE account_id = ? AND day >= ?', [o.id, o.day])
      if (o.kind === 'bump')
        return sql.run('UPDATE usage_daily SET requests = requests + ?, cost_nano = cost_nano * 2 WHERE account_id = ? OR day = ?', [o.n, o.id, DAYS[o.n % 5]!])
      const taken = await sql.get(`SELECT 1 AS x FROM usage_daily ${where}`, [o.to.day, o.to.id, o.to.model])
      const to = taken ? o.key : o.to
      return sql.run(`UPDATE usage_daily SET day = ?, account_id = ?, model = ?, prompt_tokens = prompt_tokens + 1 ${where}`, [
        to.day, to.id, to.model, o.key.day, o.key.id, o.key.model,
      ])
    }
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        for (const sql of [rowWise, setWise]) {
          for (const t of ['usage_daily', 'usage_tree_daily', 'usage_cum', 'usage_accounts']) await sql.run(`DELETE FROM ${t}`)
          await sql.tx(async (tx) => {
            for (const o of ops) await apply(tx, o)
          })
        }
        expect(await rollups(setWise)).toEqual(await rollups(rowWise))
      }),
      { numRuns: 30 },
    )
  })

  test('upgrading a v9 database to v10 keeps its rollups, and later writes keep them exact', async () => {
    const { db, url } = await migrated(STATEMENT_VERSION - 1)
    await db.exec(ACCOUNTS)
    await createBillingRepo(db).addDaily(DAYS.flatMap((day, i) => [daily(day, 3, 'm1', i + 1, 10 * i), daily(day, 4, 'm2', 2, 3)]))
    const before = await rollups(db)
    const raw = new SQL({ url, max: 1 })
    for (const m of PG_MIGRATIONS.slice(STATEMENT_VERSION - 1)) await raw.begin((tx) => tx.unsafe(m.sql))
    await raw.close()
    expect(await rollups(db)).toEqual(before)
    await createBillingRepo(db).addDaily([daily('2026-01-02', 3, 'm1', 4, 4), daily('2026-01-04', 2, 'm1', 1, 1), daily('2026-01-01', 4, 'm2', 5, 5)])
    await db.exec("DELETE FROM usage_daily WHERE day = '2026-01-10' AND account_id = 3")
    await checkRecomputed(db)
  })
})
