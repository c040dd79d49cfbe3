// PostgreSQL's schema (src/db/schema/pg.ts) on a real server: its versions apply in order, the
// tables match SQLite's migrated ones, the rollup triggers do what SQLite's do (same random writes
// on both engines), stay exact under concurrent writers, and the repositories' SQL runs on it.
import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { SQL } from 'bun'
import fc from 'fast-check'
import { baseAccount } from '../../src/accounts/bootstrap'
import { createAccountsRepo, type Account } from '../../src/accounts/repo'
import { createBillingRepo, type UsageRecord } from '../../src/billing/repo'
import { MIGRATIONS, migrate } from '../../src/db/migrations'
import { postgresSql } from '../../src/db/postgres'
import { PG_MIGRATIONS, PG_ONLY_VERSIONS } from '../../src/db/schema/pg'
import type { Row, Sql } from '../../src/db/sql'
import { sqliteSql } from '../../src/db/sqlite'
import { createReportsRepo } from '../../src/reports/repo'
import { startPostgres } from '../helpers/postgres'
import { daily, rollups } from './rollup-rows'

const pg = await startPostgres()
const opened: Array<{ close(): Promise<void> }> = []
afterAll(async () => {
  for (const c of opened) await c.close()
  await pg.stop()
})

/** A fresh database with every version applied, each in one transaction of its own. */
async function migratedPg(max = 1) {
  const url = await pg.createDatabase('schema')
  const raw = new SQL({ url, max: 1 })
  for (const m of PG_MIGRATIONS) await raw.begin((tx) => tx.unsafe(m.sql))
  await raw.close()
  const db = postgresSql(url, { max })
  opened.push(db)
  return db
}

function migratedSqlite() {
  const raw = new Database(':memory:')
  raw.exec('PRAGMA foreign_keys=ON')
  migrate(raw)
  return sqliteSql(raw)
}

/** Inserts the accounts through the repository; `parents[i]` is the index of i's parent. */
async function addTree(sql: Sql, parents: Array<number | null>): Promise<Account[]> {
  const repo = createAccountsRepo(sql)
  const out: Account[] = []
  for (const [i, p] of parents.entries()) {
    const name = `user${i}`
    const fields = {
      ...baseAccount(1_767_225_600_000),
      name,
      email: `${name}@example.com`,
      alias: name,
    }
    const parent = p === null ? null : out[p]!
    out.push(
      await repo.insert(
        { ...fields, parentId: parent?.id ?? null, keyHash: `h${i}`, keyTail: `t${i}` },
        parent?.dna ?? '.',
      ),
    )
  }
  return out
}

// Each engine's catalogue as lines: `table.column type [not null] [= default]` in column order,
// then keys, indexes, foreign keys and triggers. SQLite's INTEGER PRIMARY KEY is its 64-bit rowid.
const TABLES = "m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name <> 'schema_migrations'"
const PK_COLS =
  '(SELECT group_concat(name) FROM (SELECT name FROM pragma_table_info(m.name) WHERE pk > 0 ORDER BY pk))'
const SQLITE_COLUMNS = `SELECT m.name || '.' || p.name || ' ' || CASE
    WHEN p.type = 'INTEGER' AND ${PK_COLS} = p.name AND m.sql NOT LIKE '%WITHOUT ROWID%' THEN 'bigint'
    WHEN p.type = 'REAL' THEN 'double precision' ELSE lower(p.type) END
  || CASE WHEN p."notnull" OR p.pk THEN ' not null' ELSE '' END || COALESCE(' = ' || p.dflt_value, '') AS s
  FROM sqlite_master m, pragma_table_info(m.name) p WHERE ${TABLES} ORDER BY m.name, p.cid`
const SQLITE_KEYS = `SELECT m.name || ' pk(' || ${PK_COLS} || ')' AS s FROM sqlite_master m WHERE ${TABLES} AND ${PK_COLS} IS NOT NULL
  UNION ALL SELECT m.name || CASE i.origin WHEN 'u' THEN ' unique' ELSE ' index ' || i.name END || '('
    || (SELECT group_concat(name) FROM (SELECT name FROM pragma_index_info(i.name) ORDER BY seqno)) || ')'
    || CASE WHEN i.partial THEN ' partial' ELSE '' END
  FROM sqlite_master m, pragma_index_list(m.name) i WHERE ${TABLES} AND i.origin <> 'pk'
  UNION ALL SELECT m.name || ' fk ' || f."from" || '->' || f."table" || '(' || f."to" || ') ' || f.on_delete
  FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE ${TABLES}
  UNION ALL SELECT tbl_name || ' trigger ' || name FROM sqlite_master WHERE type = 'trigger'`
const PG_COLUMNS = `SELECT table_name || '.' || column_name || ' ' || data_type
  || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END
  || COALESCE(' = ' || regexp_replace(column_default, '::[a-z ]+$', ''), '') AS s
  FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`
const PG_ATT = (rel: string, num: string) =>
  `(SELECT attname FROM pg_attribute WHERE attrelid = ${rel} AND attnum = ${num})`
// The turn trigger (usage_daily's writers one transaction at a time) has no SQLite counterpart.
const PG_KEYS = `SELECT t.relname || CASE WHEN x.indisprimary THEN ' pk' WHEN c.contype = 'u' THEN ' unique'
      ELSE ' index ' || i.relname END
    || '(' || (SELECT string_agg(${PG_ATT('x.indrelid', 'k.att')}, ',' ORDER BY k.n)
      FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(att, n)) || ')'
    || CASE WHEN x.indpred IS NULL THEN '' ELSE ' partial' END AS s
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
  LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u')
  WHERE t.relnamespace = 'public'::regnamespace
  UNION ALL SELECT t.relname || ' fk ' || ${PG_ATT('c.conrelid', 'c.conkey[1]')} || '->' || f.relname
    || '(' || ${PG_ATT('c.confrelid', 'c.confkey[1]')} || ') '
    || CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE c.confdeltype::text END
  FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class f ON f.oid = c.confrelid
  WHERE c.contype = 'f' AND t.relnamespace = 'public'::regnamespace
  UNION ALL SELECT t.relname || ' trigger ' || g.tgname FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
  WHERE NOT g.tgisinternal AND t.relnamespace = 'public'::regnamespace AND g.tgname <> 'usage_daily_rollup_turn'`

const lines = async (sql: Sql, columns: string, keys: string) => ({
  columns: (await sql.all<{ s: string }>(columns)).map((r) => r.s),
  keys: (await sql.all<{ s: string }>(keys)).map((r) => r.s).sort(),
})



describe('PostgreSQL schema versions', () => {
  test('every version applies in order on an empty database, one transaction each', async () => {
    // SQLite's versions by name and in order, with PostgreSQL's own (v10) among them.
    expect(PG_MIGRATIONS.filter((m) => !PG_ONLY_VERSIONS.includes(m.version)).map((m) => m.name)).toEqual(
      MIGRATIONS.map((m) => m.name),
    )
    expect(PG_MIGRATIONS.map((m) => m.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1))
    const sql = new SQL({ url: await pg.createDatabase('order'), max: 1 })
    await sql.unsafe(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    )
    for (const m of PG_MIGRATIONS) {
      await sql.begin(async (tx) => {
        await tx.unsafe(m.sql)
        await tx.unsafe('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          Date.now(),
        ])
      })
    }
    const done = await sql.unsafe('SELECT version FROM schema_migrations ORDER BY version')
    expect(done.map((r: { version: number }) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version))
    // A version is one transaction: a failing one leaves nothing of its earlier statements.
    await expect(
      sql.begin((tx) => tx.unsafe(`CREATE TABLE half_done (x INTEGER); ${PG_MIGRATIONS[0]!.sql}`)),
    ).rejects.toThrow(/already exists/)
    expect(await sql.unsafe("SELECT 1 FROM pg_tables WHERE tablename = 'half_done'")).toHaveLength(
      0,
    )
    await sql.close()
  })

  test('the same tables, columns, types, keys, foreign keys, indexes and triggers as SQLite', async () => {
    const db = await migratedPg()
    const [want, got] = [
      await lines(migratedSqlite(), SQLITE_COLUMNS, SQLITE_KEYS),
      await lines(db, PG_COLUMNS, PG_KEYS),
    ]
    expect(want.columns.length).toBeGreaterThan(100)
    expect(got.columns).toEqual(want.columns)
    // Since v10 one UPDATE statement trigger does what SQLite's update and rekey row triggers do.
    expect(got.keys).toEqual(want.keys.filter((k) => k !== 'usage_daily trigger usage_daily_rollup_rekey'))
    expect(
      await db.all("SELECT tgname FROM pg_trigger WHERE tgname = 'usage_daily_rollup_turn'"),
    ).toHaveLength(1)
    // Text compares byte by byte, as SQLite's does (DNA and day ranges), whatever the database's locale.
    const collations = `SELECT DISTINCT collation_name AS c FROM information_schema.columns
      WHERE table_schema = 'public' AND data_type = 'text'`
    expect(await db.all(collations)).toEqual([{ c: 'C' }])
    expect(await db.all('SELECT last FROM account_id_mark')).toEqual([{ last: 0 }])
  })
})

describe('PostgreSQL schema, upgraded', () => {
  test('v4 fills the rollups from usage_daily rows written before it and v5 keeps limit windows, as on SQLite', async () => {
    const rawLite = new Database(':memory:')
    migrate(rawLite, MIGRATIONS.slice(0, 3))
    const lite = sqliteSql(rawLite)
    const url = await pg.createDatabase('upgrade')
    const raw = new SQL({ url, max: 1 })
    for (const m of PG_MIGRATIONS.slice(0, 3)) await raw.begin((tx) => tx.unsafe(m.sql))
    const db = postgresSql(url)
    opened.push(db)
    const before = (sql: Sql) =>
      sql.exec(`INSERT INTO accounts (id, name, email, alias, dna, key_hash, key_tail, created_at, updated_at)
        VALUES (1, 'a', 'a@x', 'a', '.1.', 'h1', 't1', 0, 0), (2, 'b', 'b@x', 'b', '.1.2.', 'h2', 't2', 0, 0),
          (3, 'c', 'c@x', 'c', '.1.2.3.', 'h3', 't3', 0, 0);
        INSERT INTO usage_daily (day, account_id, model, requests, cost_nano) VALUES
          ('2026-01-02', 3, 'm', 2, 5000000000000), ('2026-01-01', 3, 'm', 1, 7), ('2026-01-01', 2, 'n', 4, 9),
          ('2026-01-03', 3, 'n', 8, 1), ('2026-01-01', 9, 'm', 1, 1);
        INSERT INTO limit_windows VALUES ('k:1', 'minute', 1767225600000, 3, 40)`)
    await before(lite)
    await before(db)
    migrate(rawLite)
    for (const m of PG_MIGRATIONS.slice(3)) await raw.begin((tx) => tx.unsafe(m.sql))
    await raw.close()
    const got = await rollups(db)
    expect(got.tree.length).toBeGreaterThan(0)
    expect(got).toEqual(await rollups(lite))
    const windows = (sql: Sql) => sql.all('SELECT * FROM limit_windows')
    expect(await windows(db)).toEqual(await windows(lite))
  })
})

const DAYS = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-05', '2026-01-10']
// root → b → c, root → d → e; 99 has usage but no account row.
const TREE = [null, 0, 1, 0, 3]

describe('usage rollups on PostgreSQL', () => {
  test('the same random writes to usage_daily leave the same rollups as on SQLite', async () => {
    const lite = migratedSqlite()
    const db = await migratedPg()
    const accounts = await addTree(lite, TREE)
    expect((await addTree(db, TREE)).map((a) => a.dna)).toEqual(accounts.map((a) => a.dna))
    const ids = [...accounts.map((a) => a.id), 99]
    const key = fc.record({
      day: fc.constantFrom(...DAYS),
      id: fc.constantFrom(...ids),
      model: fc.constantFrom('m1', 'm2'),
    })
    const n = fc.integer({ min: 0, max: 9 })
    const cost = fc.integer({ min: 0, max: 5_000_000 }).map((x) => x * 1_000_003)
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('add' as const), key, n, cost }), weight: 4 },
      fc.record({ kind: fc.constant('move' as const), key, to: key, n, cost }),
      fc.record({ kind: fc.constant('delete' as const), key }),
      fc.record({ kind: fc.constant('bump' as const), id: fc.constantFrom(...ids), n }),
    )
    type Op = typeof op extends fc.Arbitrary<infer T> ? T : never
    const where = 'WHERE day = ? AND account_id = ? AND model = ?'
    const apply = async (sql: Sql, o: Op) => {
      if (o.kind === 'add')
        return createBillingRepo(sql).addDaily([daily(o.key.day, o.key.id, o.key.model, o.n, o.cost)])
      if (o.kind === 'delete')
        return sql.run(`DELETE FROM usage_daily ${where}`, [o.key.day, o.key.id, o.key.model])
      if (o.kind === 'bump')
        return sql.run(
          'UPDATE usage_daily SET requests = requests + ?, cost_nano = cost_nano * 2 WHERE account_id = ?',
          [o.n, o.id],
        )
      // A move onto another row's key would break the primary key on both engines: then in place.
      const taken = await sql.get(`SELECT 1 AS x FROM usage_daily ${where}`, [
        o.to.day,
        o.to.id,
        o.to.model,
      ])
      const to = taken ? o.key : o.to
      return sql.run(
        `UPDATE usage_daily SET day = ?, account_id = ?, model = ?, requests = ?, cost_nano = ?, prompt_tokens = prompt_tokens + 1 ${where}`,
        [to.day, to.id, to.model, o.n, o.cost, o.key.day, o.key.id, o.key.model],
      )
    }
    const reports = async (sql: Sql) => {
      const repo = createReportsRepo(sql)
      const sorted = (rows: object[]) => rows.map((r) => JSON.stringify(r)).sort()
      const out: string[][] = []
      for (const top of accounts.slice(0, 2)) {
        out.push(
          sorted(await repo.series({ kind: 'descendants', ancestor: top }, DAYS[1]!, DAYS[3]!)),
        )
        out.push(sorted(await repo.totals({ kind: 'subtree', top }, DAYS[1]!, DAYS[3]!)))
      }
      return out
    }
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        for (const sql of [lite, db]) {
          for (const t of ['usage_daily', 'usage_tree_daily', 'usage_cum', 'usage_accounts'])
            await sql.run(`DELETE FROM ${t}`)
          for (const o of ops) await apply(sql, o)
        }
        expect(await rollups(db)).toEqual(await rollups(lite))
        expect(await reports(db)).toEqual(await reports(lite))
      }),
      { numRuns: 40 },
    )
  })

  test('8 concurrent transactions over shared ancestors: rollups equal the sums', async () => {
    const db = await migratedPg(8)
    const lite = migratedSqlite()
    const accounts = await addTree(db, TREE)
    await addTree(lite, TREE)
    let seed = 7
    const rand = (k: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % k
    let requests = 0
    for (let round = 0; round < 3; round++) {
      const batches = Array.from({ length: 8 }, () =>
        Array.from({ length: 30 }, () =>
          daily(
            DAYS[rand(3)]!,
            accounts[1 + rand(4)]!.id,
            `m${rand(2)}`,
            1 + rand(5),
            rand(1_000) * 1_000_000_007,
          ),
        ),
      )
      // Each transaction writes its rows in its own random order; a deadlock or a lost update fails.
      await Promise.all(
        batches.map((rows) =>
          db.tx(async (tx) => {
            for (const r of rows) await createBillingRepo(tx).addDaily([r])
          }),
        ),
      )
      // The sums, one row after another on SQLite (whose rollups test/reports checks against usage_daily).
      for (const r of batches.flat()) {
        await createBillingRepo(lite).addDaily([r])
        requests += r.requests
      }
    }
    const got = await rollups(db)
    expect(got).toEqual(await rollups(lite))
    const sum = (rows: Row[]) => rows.reduce((n, r) => n + Number(r.requests), 0)
    expect(sum(got.daily)).toBe(requests)
    expect(sum(got.tree.filter((r) => r.ancestor_id === accounts[0]!.id))).toBe(requests)
  })

  test('REPEATABLE READ writers are refused (their reads would predate the turn)', async () => {
    const db = await migratedPg()
    const err = await db
      .tx(async (tx) => {
        await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
        await createBillingRepo(tx).addDaily([daily(DAYS[0]!, 1, 'm1', 1, 1)])
      })
      .catch((e: Error) => e)
    expect(String(err)).toContain('REPEATABLE READ')
    expect(await db.all('SELECT * FROM usage_daily')).toEqual([])
  })
})

describe("the repositories' statements on PostgreSQL", () => {
  test('account ids from account_id_mark (GREATEST … RETURNING) are never reused', async () => {
    const db = await migratedPg()
    const [root, child] = await addTree(db, [null, 0])
    expect([root!.id, child!.id, root!.dna, child!.dna]).toEqual([1, 2, '.1.', '.1.2.'])
    const repo = createAccountsRepo(db)
    await repo.remove(2)
    expect(await repo.nextId()).toBe(3)
    const fields = {
      ...baseAccount(0),
      name: 'x',
      email: 'x@example.com',
      alias: 'x',
      keyHash: 'hx',
      keyTail: 'tx',
    }
    await repo.insert({ ...fields, id: 40, parentId: 1 }, root!.dna)
    expect(await repo.nextId()).toBe(41)
    expect(await db.all('SELECT last FROM account_id_mark')).toEqual([{ last: 41 }])
  })

  test('usage records: a duplicate inside one multi-row insert is skipped and not returned', async () => {
    const lite = migratedSqlite()
    const db = await migratedPg()
    const record = (id: string, i: number): UsageRecord => ({
      requestId: id,
      createdAt: 1_767_225_600_000 + i,
      accountId: 1,
      keyId: null,
      endpoint: 'chat',
      model: 'm',
      mappedModel: 'm',
      promptTokens: i,
      completionTokens: 1,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      totalTokens: i + 1,
      listNano: 2 ** 40 + i,
      costNano: 2 ** 40,
      status: 200,
      latencyMs: 5,
      ttfbMs: null,
      estimated: i % 2 === 1,
      clientIp: '127.0.0.1',
    })
    // 10 rows: one statement of 8 (with r1 twice) and two of 1; r0 was stored before.
    const ids = ['r1', 'r2', 'r1', 'r3', 'r4', 'r5', 'r6', 'r7', 'r0', 'r8']
    for (const sql of [lite, db]) await createBillingRepo(sql).insertUsage([record('r0', 0)])
    const got = await Promise.all(
      [lite, db].map((sql) => createBillingRepo(sql).insertUsage(ids.map(record))),
    )
    expect([...got[1]!].sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'])
    expect([...got[1]!].sort()).toEqual([...got[0]!].sort())
    // The same rows; ids may differ: a PostgreSQL identity spends a number on each skipped row.
    const rows = async (sql: Sql) =>
      (await sql.all('SELECT * FROM usage_records ORDER BY id')).map(
        ({ id, ...r }) => (expect(id).toBeNumber(), r),
      )
    expect(await rows(db)).toEqual(await rows(lite))
  })

  test('the usage_daily upsert adds to the row, in BIGINT', async () => {
    const db = await migratedPg()
    const repo = createBillingRepo(db)
    await repo.addDaily([daily('2026-01-01', 5, 'm', 2, 2 ** 45)])
    await repo.addDaily([daily('2026-01-01', 5, 'm', 3, 2 ** 45)])
    const row = await db.get('SELECT requests, prompt_tokens, cost_nano FROM usage_daily')
    expect(row).toEqual({ requests: 5, prompt_tokens: 15, cost_nano: 2 ** 46 })
    expect(await db.all('SELECT day, requests, cost_nano FROM usage_cum')).toEqual([
      { day: '2026-01-01', requests: 5, cost_nano: 2 ** 46 },
    ])
  })
})
