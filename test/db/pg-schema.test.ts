// PostgreSQL's schema (src/db/schema/pg.ts) on a real server: the 8 versions apply in order, the
// tables match SQLite's migrated ones, the rollup triggers do what SQLite's do (same random writes
// on both engines), stay exact under concurrent writers, and the repositories' SQL runs on it.
import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { SQL } from 'bun'
import fc from 'fast-check'
import { baseAccount } from '../../src/accounts/bootstrap'
import { createAccountsRepo, type Account } from '../../src/accounts/repo'
import { createBillingRepo, type DailyRow, type UsageRecord } from '../../src/billing/repo'
import { MIGRATIONS, migrate } from '../../src/db/migrations'
import { postgresSql } from '../../src/db/postgres'
import { PG_MIGRATIONS } from '../../src/db/schema/pg'
import type { Row, Sql } from '../../src/db/sql'
import { sqliteSql } from '../../src/db/sqlite'
import { createReportsRepo } from '../../src/reports/repo'
import { startPostgres } from '../helpers/postgres'

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
    const fields = { ...baseAccount(1_767_225_600_000), name, email: `${name}@example.com`, alias: name }
    const parent = p === null ? null : out[p]!
    out.push(await repo.insert({ ...fields, parentId: parent?.id ?? null, keyHash: `h${i}`, keyTail: `t${i}` }, parent?.dna ?? '.'))
  }
  return out
}

/** A table as both engines can describe it: columns (type, null, default), keys, FKs, indexes. */
type Shape = { columns: string[]; keys: string[]; fks: string[]; indexes: string[]; triggers: string[] }
const TYPES: Record<string, string> = {
  BIGINT: 'bigint', INTEGER: 'integer', TEXT: 'text', 'DOUBLE PRECISION': 'double precision', REAL: 'double precision',
}

function sqliteTables(db: Database): Record<string, Shape> {
  const q = (s: string) => db.prepare(s).all() as any[]
  const out: Record<string, Shape> = {}
  const tables = q("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")
  for (const { name, sql } of tables) {
    const cols = q(`PRAGMA table_info(${name})`)
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)
    // INTEGER PRIMARY KEY is the rowid, 64 bits: BIGINT on PostgreSQL.
    const rowid = pk.length === 1 && pk[0].type === 'INTEGER' && !/WITHOUT ROWID/.test(sql)
    const indexes = q(`PRAGMA index_list(${name})`)
    const colsOf = (index: string) => q(`PRAGMA index_info(${index})`).map((c) => c.name).join(',')
    out[name] = {
      columns: cols.map((c) => `${c.name} ${rowid && c.pk ? 'bigint' : TYPES[c.type]} ${c.notnull || c.pk ? 'not null' : 'null'} ${c.dflt_value}`),
      keys: [...(pk.length ? [`pk(${pk.map((c) => c.name).join(',')})`] : []), ...indexes.filter((i) => i.origin === 'u').map((i) => `unique(${colsOf(i.name)})`)].sort(),
      fks: q(`PRAGMA foreign_key_list(${name})`).map((f) => `${f.from}->${f.table}(${f.to}) ${f.on_delete}`).sort(),
      indexes: indexes.filter((i) => i.origin === 'c').map((i) => `${i.name}(${colsOf(i.name)})${i.partial ? ' partial' : ''}`).sort(),
      triggers: q(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '${name}'`).map((t) => t.name).sort(),
    }
  }
  return out
}

async function pgTables(sql: Sql): Promise<Record<string, Shape>> {
  const out: Record<string, Shape> = {}
  const tables = await sql.all<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'")
  for (const { t } of tables) {
    const cols = await sql.all<any>(`SELECT column_name AS name, data_type AS type, is_nullable AS nullable,
      column_default AS dflt FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position`, [t])
    const indexes = await sql.all<any>(`SELECT i.relname AS name, x.indisprimary AS pk, c.contype AS kind,
        x.indpred IS NOT NULL AS partial, (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(x.indkey::int2[])
          WITH ORDINALITY k(att, n) JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.att) AS cols
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid
        AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u') WHERE x.indrelid = ?::regclass`, [t])
    const fks = await sql.all<any>(`SELECT a.attname AS col, f.relname AS ref, fa.attname AS to_col, c.confdeltype AS del
      FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      JOIN pg_class f ON f.oid = c.confrelid JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
      WHERE c.contype = 'f' AND c.conrelid = ?::regclass`, [t])
    const triggers = await sql.all<any>('SELECT tgname FROM pg_trigger WHERE tgrelid = ?::regclass AND NOT tgisinternal', [t])
    out[t] = {
      columns: cols.map((c) => `${c.name} ${c.type} ${c.nullable === 'NO' ? 'not null' : 'null'} ${c.dflt?.replace(/::[a-z ]+$/, '') ?? null}`),
      keys: indexes.filter((i) => i.pk || i.kind === 'u').map((i) => `${i.pk ? 'pk' : 'unique'}(${i.cols})`).sort(),
      fks: fks.map((f) => `${f.col}->${f.ref}(${f.to_col}) ${f.del === 'c' ? 'CASCADE' : f.del === 'a' ? 'NO ACTION' : f.del}`).sort(),
      indexes: indexes.filter((i) => !i.pk && !i.kind).map((i) => `${i.name}(${i.cols})${i.partial ? ' partial' : ''}`).sort(),
      // The turn trigger (one writer of usage_daily at a time) has no SQLite counterpart.
      triggers: triggers.map((r) => r.tgname).filter((n) => n !== 'usage_daily_rollup_turn').sort(),
    }
  }
  return out
}

const daily = (day: string, accountId: number, model: string, n: number, costNano: number): DailyRow => ({
  day, accountId, model, requests: n, promptTokens: 3 * n, completionTokens: 2 * n, cachedTokens: n % 2,
  cacheWriteTokens: n % 3, costNano,
})

/** Every row of the rollups (and of usage_daily), in key order. */
async function rollups(sql: Sql) {
  return {
    daily: await sql.all('SELECT * FROM usage_daily ORDER BY day, account_id, model'),
    tree: await sql.all('SELECT * FROM usage_tree_daily ORDER BY ancestor_id, day, model'),
    cum: await sql.all('SELECT * FROM usage_cum ORDER BY account_id, day'),
    accounts: await sql.all('SELECT * FROM usage_accounts ORDER BY account_id'),
  }
}

describe('PostgreSQL schema versions', () => {
  test('the 8 versions apply in order on an empty database, one transaction each', async () => {
    expect(PG_MIGRATIONS.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]))
    const sql = new SQL({ url: await pg.createDatabase('order'), max: 1 })
    await sql.unsafe('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
    for (const m of PG_MIGRATIONS) {
      await sql.begin(async (tx) => {
        await tx.unsafe(m.sql)
        await tx.unsafe('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [m.version, m.name, Date.now()])
      })
    }
    const done = await sql.unsafe('SELECT version FROM schema_migrations ORDER BY version')
    expect(done.map((r: { version: number }) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    // A version is one transaction: a failing one leaves nothing of its earlier statements.
    const broken = `CREATE TABLE half_done (x INTEGER); ${PG_MIGRATIONS[0]!.sql}`
    expect(sql.begin((tx) => tx.unsafe(broken))).rejects.toThrow(/already exists/)
    const left = await sql.unsafe("SELECT COUNT(*)::int AS n FROM pg_tables WHERE tablename = 'half_done'")
    expect(left[0].n).toBe(0)
    await sql.close()
  })

  test('the same tables, columns, types, keys, foreign keys, indexes and triggers as SQLite', async () => {
    const lite = sqliteTables(migratedSqlite().raw)
    const db = await migratedPg()
    const pgShape = await pgTables(db)
    expect(Object.keys(pgShape).sort()).toEqual(Object.keys(lite).sort())
    for (const [name, shape] of Object.entries(lite)) expect({ name, ...pgShape[name] }).toEqual({ name, ...shape })
    expect(await db.all("SELECT tgname FROM pg_trigger WHERE tgname = 'usage_daily_rollup_turn'")).toHaveLength(1)
    // Text compares byte by byte, as SQLite's does (DNA and day ranges), whatever the database's locale.
    const collations = await db.all<{ c: string | null }>(`SELECT DISTINCT collation_name AS c FROM information_schema.columns
      WHERE table_schema = 'public' AND data_type = 'text'`)
    expect(collations).toEqual([{ c: 'C' }])
    const seed = await db.all('SELECT last FROM account_id_mark')
    expect(seed).toEqual([{ last: 0 }])
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
    const key = fc.record({ day: fc.constantFrom(...DAYS), id: fc.constantFrom(...ids), model: fc.constantFrom('m1', 'm2') })
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
      if (o.kind === 'add') return createBillingRepo(sql).addDaily(daily(o.key.day, o.key.id, o.key.model, o.n, o.cost))
      if (o.kind === 'delete') return sql.run(`DELETE FROM usage_daily ${where}`, [o.key.day, o.key.id, o.key.model])
      if (o.kind === 'bump') return sql.run('UPDATE usage_daily SET requests = requests + ?, cost_nano = cost_nano * 2 WHERE account_id = ?', [o.n, o.id])
      // A move onto another row's key would break the primary key on both engines: then in place.
      const taken = await sql.get(`SELECT 1 AS x FROM usage_daily ${where}`, [o.to.day, o.to.id, o.to.model])
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
        out.push(sorted(await repo.series({ kind: 'descendants', ancestor: top }, DAYS[1]!, DAYS[3]!)))
        out.push(sorted(await repo.totals({ kind: 'subtree', top }, DAYS[1]!, DAYS[3]!)))
      }
      return out
    }
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        for (const sql of [lite, db]) {
          for (const t of ['usage_daily', 'usage_tree_daily', 'usage_cum', 'usage_accounts']) await sql.run(`DELETE FROM ${t}`)
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
    const rand = (k: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % k)
    let requests = 0
    for (let round = 0; round < 3; round++) {
      const batches = Array.from({ length: 8 }, () =>
        Array.from({ length: 30 }, () =>
          daily(DAYS[rand(3)]!, accounts[1 + rand(4)]!.id, `m${rand(2)}`, 1 + rand(5), rand(1_000) * 1_000_000_007),
        ),
      )
      // Each transaction writes its rows in its own random order; a deadlock or a lost update fails.
      await Promise.all(
        batches.map((rows) =>
          db.tx(async (tx) => {
            for (const r of rows) await createBillingRepo(tx).addDaily(r)
          }),
        ),
      )
      // The sums, one row after another on SQLite (whose rollups test/reports checks against usage_daily).
      for (const r of batches.flat()) {
        await createBillingRepo(lite).addDaily(r)
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
        await createBillingRepo(tx).addDaily(daily(DAYS[0]!, 1, 'm1', 1, 1))
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
    const fields = { ...baseAccount(0), name: 'x', email: 'x@example.com', alias: 'x', keyHash: 'hx', keyTail: 'tx' }
    await repo.insert({ ...fields, id: 40, parentId: 1 }, root!.dna)
    expect(await repo.nextId()).toBe(41)
    expect(await db.all('SELECT last FROM account_id_mark')).toEqual([{ last: 41 }])
  })

  test('usage records: a duplicate inside one multi-row insert is skipped and not returned', async () => {
    const lite = migratedSqlite()
    const db = await migratedPg()
    const record = (id: string, i: number): UsageRecord => ({
      requestId: id, createdAt: 1_767_225_600_000 + i, accountId: 1, keyId: null, endpoint: 'chat',
      model: 'm', mappedModel: 'm', promptTokens: i, completionTokens: 1, cachedTokens: 0,
      cacheWriteTokens: 0, cacheWrite1hTokens: 0, totalTokens: i + 1, listNano: 2 ** 40 + i,
      costNano: 2 ** 40, status: 200, latencyMs: 5, ttfbMs: null, estimated: i % 2 === 1, clientIp: '127.0.0.1',
    })
    // 10 rows: one statement of 8 (with r1 twice) and two of 1; r0 was stored before.
    const ids = ['r1', 'r2', 'r1', 'r3', 'r4', 'r5', 'r6', 'r7', 'r0', 'r8']
    for (const sql of [lite, db]) await createBillingRepo(sql).insertUsage([record('r0', 0)])
    const got = await Promise.all([lite, db].map((sql) => createBillingRepo(sql).insertUsage(ids.map(record))))
    expect([...got[1]!].sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'])
    expect([...got[1]!].sort()).toEqual([...got[0]!].sort())
    // The same rows; ids may differ: a PostgreSQL identity spends a number on each skipped row.
    const rows = async (sql: Sql) =>
      (await sql.all('SELECT * FROM usage_records ORDER BY id')).map(({ id, ...r }) => (expect(id).toBeNumber(), r))
    expect(await rows(db)).toEqual(await rows(lite))
  })

  test('the usage_daily upsert adds to the row, in BIGINT', async () => {
    const db = await migratedPg()
    const repo = createBillingRepo(db)
    await repo.addDaily(daily('2026-01-01', 5, 'm', 2, 2 ** 45))
    await repo.addDaily(daily('2026-01-01', 5, 'm', 3, 2 ** 45))
    const row = await db.get('SELECT requests, prompt_tokens, cost_nano FROM usage_daily')
    expect(row).toEqual({ requests: 5, prompt_tokens: 15, cost_nano: 2 ** 46 })
    expect(await db.all('SELECT day, requests, cost_nano FROM usage_cum')).toEqual([
      { day: '2026-01-01', requests: 5, cost_nano: 2 ** 46 },
    ])
  })
})
