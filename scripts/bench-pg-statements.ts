// What the write-behind flush sends to PostgreSQL per usage record: a small scale tree and a spread
// of calls written through the settler and flusher (as scripts/scale.ts does), counted by
// pg_stat_statements (top-level statements: one round trip each). Prints Markdown.
// Run: bun scripts/bench-pg-statements.ts [--records N] [--users N] [--nested]
// (--nested: the statements run inside functions and triggers counted too, listed by time)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'
import { bootstrap } from '../src/accounts/bootstrap'
import { loadConfig } from '../src/config'
import { openPostgresStore } from '../src/db/pg-store'
import { buildDeps } from '../src/deps'
import { createFakeClock } from '../src/shared/clock'
import { generateKey } from '../src/shared/ids'
import { createLogger } from '../src/shared/log'
import { buildTree, SHAPES, spread, writeUsage } from '../test/helpers/scale'
import { startBenchPostgres } from './bench-pg'

const args = process.argv.slice(2)
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const RECORDS = flag('records', 20_000)
const USERS = flag('users', 2_000)
const START_MS = Date.UTC(2025, 0, 1)
const NESTED = args.includes('--nested')

const pg = await startBenchPostgres()
const admin = new SQL({ url: pg.server.url('postgres'), max: 1 })
await admin.unsafe("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
await admin.close()
await pg.server.kill()
await pg.server.restart()
const url = await pg.database('stmts')
const store = await openPostgresStore(url)
await store.sql.exec('CREATE EXTENSION pg_stat_statements')
if (NESTED) {
  await store.sql.exec("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
  await store.sql.exec('SELECT pg_reload_conf()')
}
const dir = mkdtempSync(join(tmpdir(), 'xgate-stmts-'))
const clock = createFakeClock(START_MS)
const config = loadConfig({}, { DATA_DIR: dir, TZ: 'UTC', LOG_LEVEL: 'error', DATABASE_URL: url })
const deps = await buildDeps(config, store, { log: createLogger({ level: 'error' }), clock })
await bootstrap(store.sql, {
  initUsers: `root::root@scale.example::${generateKey()}`,
  dataDir: dir,
  nowMs: clock.now(),
})
const tree = await buildTree(deps, SHAPES.small)
const users = spread(tree.members, Math.min(USERS, tree.members.length))
await store.sql.exec('SELECT pg_stat_statements_reset()')
const t0 = performance.now()
const totals = await writeUsage(deps, clock, {
  records: RECORDS,
  accounts: users,
  startMs: START_MS,
  days: 365,
  models: ['gpt-4o-mini', 'gpt-4.1', 'claude-sonnet-4-0'],
})
const s = (performance.now() - t0) / 1000
type Stat = { query: string; calls: number; ms: number; rows: number }
const stats = await store.sql.all<Stat>(
  `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls, total_exec_time AS ms, rows
   FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND toplevel
   ORDER BY calls DESC`,
)
const calls = stats.reduce((n, r) => n + Number(r.calls), 0)
const ms = stats.reduce((n, r) => n + Number(r.ms), 0)
const say = (l = '') => console.log(l)
say(`# Statements per usage record on PostgreSQL`)
say()
say(
  `${RECORDS.toLocaleString('en-US')} calls from ${users.length.toLocaleString('en-US')} accounts ` +
    `(${SHAPES.small.total.toLocaleString('en-US')}-account tree), ${totals.flushes} flushes: ` +
    `${s.toFixed(1)} s, ${Math.round(RECORDS / s).toLocaleString('en-US')} records/s; ` +
    `${calls.toLocaleString('en-US')} top-level statements (${(calls / RECORDS).toFixed(2)} per ` +
    `record), ${(ms / 1000).toFixed(1)} s of server execution time ` +
    `(${((ms * 1000) / RECORDS).toFixed(0)} µs per record).`,
)
say()
const table = (rows: Stat[], width: number) => {
  say('| calls | per record | exec ms | statement |')
  say('| --: | --: | --: | --- |')
  for (const r of rows) {
    // A trigger statement is named by what it writes (its text starts with the same CTE).
    const writes = [...r.query.matchAll(/(INSERT INTO|UPDATE) (?!SET)\w+/g)].at(-1)?.[0]
    const text = r.query.startsWith('WITH ') && writes ? `${writes} ← ${r.query}` : r.query
    const q = text.length > width ? `${text.slice(0, width)}…` : text
    say(
      `| ${Number(r.calls)} | ${(Number(r.calls) / RECORDS).toFixed(2)} | ${Number(r.ms).toFixed(0)} | \`${q.replaceAll('|', '\\|')}\` |`,
    )
  }
}
table(stats.slice(0, 12), 110)
if (NESTED) {
  const nested = await store.sql.all<Stat>(
    `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls, total_exec_time AS ms, rows
     FROM pg_stat_statements WHERE NOT toplevel ORDER BY total_exec_time DESC LIMIT 12`,
  )
  say()
  say('Inside functions and triggers (their time is part of the statements above), by time:')
  say()
  table(nested, 160)
}
deps.flusher.stop()
await store.close()
await pg.stop()
rmSync(dir, { recursive: true, force: true })
