// Benchmark of the account lists and lookups (not a test): builds 100,000 descendants of root
// through the account service in batched transactions, then times paging GET /x-dna (size
// 1000) and lookups by ID, Name, Email and DNA through app.handle, and prints a table.
// Run: bun scripts/bench-accounts.ts [descendants]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bootstrap } from '../src/accounts/bootstrap'
import type { Account } from '../src/accounts/repo'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { openStore } from '../src/db/open'
import { buildDeps } from '../src/deps'
import { generateKey } from '../src/shared/ids'
import { createLogger } from '../src/shared/log'

const TOTAL = Number(process.argv[2] ?? 100_000)
const RESELLERS = 10
const KIDS = 100
const LEAVES = Math.max(0, Math.ceil((TOTAL - RESELLERS - RESELLERS * KIDS) / (RESELLERS * KIDS)))

const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-'))
const rootKey = generateKey()
const config = loadConfig(
  {},
  { DATA_DIR: dir, TZ: 'UTC', USER_API_MIN_BALANCE: '0', USER_MIN_BALANCE: '1' },
)
const store = openStore(dir, { lock: false })
const deps = await buildDeps(config, store, { log: createLogger({ level: 'error' }) })
await bootstrap(store.sql, {
  initUsers: `root::root@example.com::${rootKey}`,
  dataDir: dir,
  nowMs: Date.now(),
})
const svc = deps.accounts.service
const repo = deps.accounts.repo
const app = createApp(deps)

const rows: Array<[string, string, string]> = []
const ms = (t0: number) => performance.now() - t0

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

function record(what: string, samples: number[], unit: 'ms' | 'µs' = 'ms') {
  const k = unit === 'µs' ? 1000 : 1
  const f = (x: number) => (x * k).toFixed(unit === 'µs' ? 0 : 2)
  const avg = samples.reduce((a, b) => a + b, 0) / samples.length
  rows.push([
    what,
    `${samples.length}`,
    `avg ${f(avg)} ${unit}, p50 ${f(percentile(samples, 50))}, p99 ${f(percentile(samples, 99))}, max ${f(Math.max(...samples))}`,
  ])
}

// Build: root → resellers → kids → leaves, one transaction per account (as POST /x-users).
const t0 = performance.now()
const create = async (
  parent: Account,
  name: string,
  credit: number,
  extra: Record<string, unknown> = {},
) =>
  (await svc.create(parent, {
    Name: name,
    Email: `${name}@bench.example`,
    CreditGranted: credit,
    ...extra,
  })).User.ID
const root = (await repo.findById(1))!
const sample: Account[] = []
let made = 0
for (let r = 0; r < RESELLERS; r++) {
  const reseller = (await repo.findById(await create(root, `res-${r}`, KIDS * (LEAVES + 2) + 100)))!
  made++
  const kids: number[] = []
  for (let k = 0; k < KIDS; k++) kids.push(await create(reseller, `kid-${r}-${k}`, LEAVES + 2, { Gear: k % 10 }))
  made += kids.length
  for (const kidId of kids) {
    const kid = (await repo.findById(kidId))!
    if (made >= TOTAL) break
    const n = Math.min(LEAVES, TOTAL - made)
    for (let l = 0; l < n; l++) await create(kid, `leaf-${kidId}-${l}`, 1)
    made += n
    if (sample.length < 1000 && kidId % 3 === 0) sample.push((await repo.findById(kidId))!)
  }
}
const buildMs = ms(t0)
rows.push([
  'build descendants (service, batched)',
  `${made}`,
  `${(buildMs / 1000).toFixed(1)} s, ${((buildMs * 1000) / made).toFixed(0)} µs each`,
])

const get = async (path: string) => {
  const res = await app.handle(
    new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${rootKey}` } }),
  )
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return res
}

// Paging the whole subtree of root, 1000 per page.
{
  const first = await get('/x-dna?size=1000')
  const pages = Number(first.headers.get('x-total-pages'))
  await first.arrayBuffer()
  const samples: number[] = []
  for (let p = 1; p <= pages; p++) {
    const t = performance.now()
    await (await get(`/x-dna?size=1000&page=${p}`)).arrayBuffer()
    samples.push(ms(t))
  }
  record(`GET /x-dna?size=1000 pages 1…${pages} (root)`, samples)
  const last: number[] = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    await (await get(`/x-dna?size=1000&page=${pages}`)).arrayBuffer()
    last.push(ms(t))
  }
  record(`GET /x-dna?size=1000&page=${pages} (last page)`, last)
}
{
  const samples: number[] = []
  for (let p = 1; p <= 5; p++) {
    const t = performance.now()
    await (await get(`/x-dna/G3?size=1000&page=${p}`)).arrayBuffer()
    samples.push(ms(t))
  }
  record('GET /x-dna/G3?size=1000 (filter)', samples)
}

// Lookups by each identifier kind.
for (const [kind, ident] of [
  ['ID', (a: Account) => String(a.id)],
  ['Name', (a: Account) => a.name],
  ['Email', (a: Account) => a.email],
  ['DNA', (a: Account) => a.dna],
] as const) {
  const samples: number[] = []
  for (const a of sample) {
    const t = performance.now()
    await (await get(`/x-dna/${encodeURIComponent(ident(a))}`)).arrayBuffer()
    samples.push(ms(t))
  }
  record(`GET /x-dna/{${kind}}`, samples, 'µs')
}

const plans = ['dna > ? AND dna < ?', 'name = ?', 'email = ?', 'parent_id = ?'].map((w) => {
  const st = store.db.prepare(`EXPLAIN QUERY PLAN SELECT id FROM accounts WHERE ${w}`)
  const plan = st.all(
    ...(w
      .split('?')
      .slice(1)
      .map(() => 'x') as string[]),
  ) as Array<{ detail: string }>
  st.finalize()
  return `${w}: ${plan.map((p) => p.detail).join('; ')}`
})

const width = Math.max(...rows.map((r) => r[0].length))
console.log(`\naccounts: ${await repo.count()} rows, SQLite file under ${dir}\n`)
console.log(`${'what'.padEnd(width)}  ${'n'.padStart(6)}  time`)
for (const [a, b, c] of rows) console.log(`${a.padEnd(width)}  ${b.padStart(6)}  ${c}`)
console.log('\nquery plans:\n  ' + plans.join('\n  '))
const v = await svc.cards.invariantViolations()
console.log(`\nledger invariant: ${v.length === 0 ? 'ok' : `${v.length} accounts FAIL`}`)
store.close()
rmSync(dir, { recursive: true, force: true })
