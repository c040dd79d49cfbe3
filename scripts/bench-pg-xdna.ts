// /x-dna paging on PostgreSQL with and without a proposed index: the scale tree (100,000 accounts)
// built on a server started for the run, the root's first/middle/last page timed through the app,
// then again after VACUUM (what autovacuum does to a table after a bulk load) and after each
// index given, with EXPLAIN ANALYZE of the page statement. Nothing here changes src/.
// Run: bun scripts/bench-pg-xdna.ts [--accounts N] ["CREATE INDEX …" …]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bootstrap } from '../src/accounts/bootstrap'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { buildDeps } from '../src/deps'
import { dnaUpperBound } from '../src/logs/repo'
import { createFakeClock } from '../src/shared/clock'
import { generateKey } from '../src/shared/ids'
import { createLogger } from '../src/shared/log'
import { buildTree, SHAPES } from '../test/helpers/scale'
import { openScaleStore } from './bench-scale-store'

const args = process.argv.slice(2)
const at = args.indexOf('--accounts')
const ACCOUNTS = at >= 0 ? Number(args.splice(at, 2)[1]) : SHAPES.large.total
const INDEXES = args
const SIZE = 1000

const dir = mkdtempSync(join(tmpdir(), 'xgate-xdna-'))
const s = await openScaleStore('postgres', dir)
const sql = s.store.sql
const rootKey = generateKey()
const clock = createFakeClock(Date.UTC(2025, 0, 1))
const config = loadConfig(
  {},
  { DATA_DIR: dir, TZ: 'UTC', LOG_LEVEL: 'error', DATABASE_URL: s.url! },
)
const deps = await buildDeps(config, s.store, { log: createLogger({ level: 'error' }), clock })
await bootstrap(sql, {
  initUsers: `root::root@scale.example::${rootKey}`,
  dataDir: dir,
  nowMs: clock.now(),
})
const app = createApp(deps)
const say = (line = '') => console.log(line)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

async function pageMs(page: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < 7; i++) {
    const t = performance.now()
    const res = await app.handle(
      new Request(`http://localhost/x-dna?page=${page}&size=${SIZE}`, {
        headers: { authorization: `Bearer ${rootKey}` },
      }),
    )
    await res.text()
    if (res.status !== 200) throw new Error(`/x-dna page ${page}: ${res.status}`)
    times.push(performance.now() - t)
  }
  return median(times)
}

const root = (await deps.accounts.repo.findById(1))!
const range = [root.dna, dnaUpperBound(root.dna)]
// The directory's page statement (src/accounts/directory-repo.ts), for its plan.
const PAGE = `SELECT a.* FROM accounts a JOIN (SELECT id FROM accounts WHERE dna > ? AND dna < ? ORDER BY dna
  LIMIT ? OFFSET ?) p ON a.id = p.id ORDER BY a.dna`

async function measure(label: string): Promise<void> {
  const pages = Math.ceil(ACCOUNTS / SIZE)
  const cells: string[] = []
  for (const p of [1, Math.ceil(pages / 2), pages]) cells.push((await pageMs(p)).toFixed(1))
  say(`| ${label} | ${cells.join(' | ')} |`)
  for (const offset of [0, (pages - 1) * SIZE]) {
    const rows = await sql.all<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${PAGE}`, [
      ...range,
      SIZE,
      offset,
    ])
    plans.push(
      `- ${label}, OFFSET ${offset}: ${rows.map((r) => r['QUERY PLAN'].trim()).join('; ')}`,
    )
  }
}

const plans: string[] = []
let t0 = performance.now()
await buildTree(deps, { total: ACCOUNTS, fanouts: SHAPES.large.fanouts })
say(`# /x-dna?size=${SIZE} as root on PostgreSQL, ${ACCOUNTS.toLocaleString('en-US')} accounts`)
say()
say(`${s.label}; tree built in ${((performance.now() - t0) / 1000).toFixed(1)} s.`)
say()
say('Median of 7 requests through the app (ms).')
say()
say('| database state | first page | middle page | last page |')
say('| --- | --: | --: | --: |')
await sql.exec('ANALYZE accounts')
await measure('after the load, ANALYZE')
t0 = performance.now()
await sql.exec('VACUUM (ANALYZE) accounts')
const vacuumS = ((performance.now() - t0) / 1000).toFixed(1)
await measure(`after VACUUM (${vacuumS} s)`)
for (const ddl of INDEXES) {
  t0 = performance.now()
  await sql.exec(ddl)
  await sql.exec('VACUUM (ANALYZE) accounts')
  await measure(`${ddl} (${((performance.now() - t0) / 1000).toFixed(1)} s with VACUUM)`)
}
say()
say('Plans of the page statement:')
say()
for (const p of plans) say(p)
deps.flusher.stop()
await s.close()
rmSync(dir, { recursive: true, force: true })
