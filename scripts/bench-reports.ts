// Times GET /x-bill over a year of daily usage: ACCOUNTS accounts (resellers of 100 under root)
// × DAYS days × 2 models seeded into usage_daily of a fresh DATA_DIR before the rollup migration,
// which then backfills; then the write-behind's upsert cost with the rollup triggers.
// usage: bun scripts/bench-reports.ts [accounts=10000] [days=365]
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { applyPragmas, openStore } from '../src/db/open'
import { MIGRATIONS, migrate } from '../src/db/migrations'
import { buildDeps } from '../src/deps'
import { addDays } from '../src/reports/days'
import { generateKey, hashKey } from '../src/shared/ids'
import { createMemoryLogger } from '../src/shared/log'

const ACCOUNTS = Number(process.argv[2] ?? 10_000)
const DAYS = Number(process.argv[3] ?? 365)
const PER_RESELLER = 100
const FIRST_DAY = '2025-01-01'
const LAST_DAY = addDays(FIRST_DAY, DAYS - 1)
const MODELS = ['gpt-4o', 'claude-sonnet-4']
const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-'))
const rootKey = generateKey()
const ms = (t0: number) => performance.now() - t0

// 1. Accounts and usage_daily, as an older database would hold them.
let t0 = performance.now()
const raw = new Database(join(dir, 'xgate.db'), { create: true, strict: true })
applyPragmas(raw)
migrate(
  raw,
  MIGRATIONS.filter((m) => m.version < 4),
)
const addAccount = raw.prepare(`INSERT INTO accounts (id, parent_id, name, email, alias, dna, level,
  key_hash, key_tail, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`)
const resellers: Array<{ id: number; dna: string }> = []
raw.transaction(() => {
  addAccount.run(
    1,
    null,
    'root',
    'root@example.com',
    'root',
    '.1.',
    1,
    hashKey(rootKey),
    rootKey.slice(-8),
  )
  for (let id = 2; id < ACCOUNTS + 2; id++) {
    const reseller = (id - 2) % PER_RESELLER === 0
    const parent = reseller ? { id: 1, dna: '.1.' } : resellers.at(-1)!
    const dna = `${parent.dna}${id}.`
    if (reseller) resellers.push({ id, dna })
    addAccount.run(
      id,
      parent.id,
      `user${id}`,
      `user${id}@example.com`,
      `user${id}`,
      dna,
      1 + (id % 3),
      `h${id}`,
      'tail',
    )
  }
})()
const addDaily =
  raw.prepare(`INSERT INTO usage_daily (day, account_id, model, requests, prompt_tokens,
  completion_tokens, cached_tokens, cost_nano) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
for (let d = 0; d < DAYS; d++) {
  const day = addDays(FIRST_DAY, d)
  raw.transaction(() => {
    for (let id = 2; id < ACCOUNTS + 2; id++) {
      for (const m of MODELS) addDaily.run(day, id, m, 1 + (id % 7), 900, 300, 100, 1_000_000 + id)
    }
  })()
}
raw.close()
const seedMs = ms(t0)
const rows = ACCOUNTS * DAYS * MODELS.length

// 2. The rollup migration backfills from usage_daily.
t0 = performance.now()
const store = openStore(dir)
const backfillMs = ms(t0)
const config = loadConfig({}, { DATA_DIR: dir, TZ: 'UTC', LOG_LEVEL: 'error' })
const deps = await buildDeps(config, store, {
  log: createMemoryLogger(),
  clock: { now: () => Date.parse(`${LAST_DAY}T12:00:00Z`) },
})
const app = createApp(deps)

async function time(
  path: string,
  runs = 5,
): Promise<{ path: string; bestMs: number; medianMs: number; bytes: number; users: number }> {
  const times: number[] = []
  let bytes = 0
  let users = 0
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    const res = await app.handle(
      new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${rootKey}` } }),
    )
    const text = await res.text()
    times.push(ms(t))
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`)
    bytes = text.length
    users = (JSON.parse(text) as { usage_users: unknown[] }).usage_users.length
  }
  times.sort((a, b) => a - b)
  return { path, bestMs: times[0]!, medianMs: times[Math.floor(runs / 2)]!, bytes, users }
}

const reseller = resellers[Math.floor(resellers.length / 2)]!
const results = [
  await time(`/x-bill?s=${FIRST_DAY}&e=${LAST_DAY}`),
  await time('/x-bill'),
  await time(`/x-bill?days=${Math.min(DAYS, 366)}&u=${reseller.dna}`),
  await time(`/x-bill?days=${Math.min(DAYS, 366)}&u=${reseller.id + 1}`),
  await time(`/x-bill?days=${Math.min(DAYS, 366)}&u=L2`, 1),
]

// 3. The write-behind's upsert with the rollup triggers: one flush of 5,000 account × model rows.
const upsert = store.db
  .prepare(`INSERT INTO usage_daily (day, account_id, model, requests, prompt_tokens,
  completion_tokens, cached_tokens, cost_nano) VALUES (?, ?, ?, 1, 10, 5, 0, 1000)
  ON CONFLICT (day, account_id, model) DO UPDATE SET requests = requests + excluded.requests,
  prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens,
  cached_tokens = cached_tokens + excluded.cached_tokens, cost_nano = cost_nano + excluded.cost_nano`)
const flushRows = Math.min(5_000, ACCOUNTS * 2)
t0 = performance.now()
store.db.transaction(() => {
  for (let i = 0; i < flushRows; i++) upsert.run(LAST_DAY, 2 + (i >> 1), MODELS[i & 1]!)
})()
const flushMs = ms(t0)

console.log(
  `xgate report bench: ${ACCOUNTS} accounts × ${DAYS} days × ${MODELS.length} models = ${rows} usage_daily rows`,
)
console.log(
  `seed ${(seedMs / 1000).toFixed(1)} s, rollup backfill (migration 4) ${(backfillMs / 1000).toFixed(1)} s`,
)
console.log('')
console.log('| request (as root) | users | bytes | best ms | median ms |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const r of results) {
  console.log(
    `| ${r.path} | ${r.users} | ${r.bytes} | ${r.bestMs.toFixed(1)} | ${r.medianMs.toFixed(1)} |`,
  )
}
console.log('')
console.log(
  `write-behind upsert with rollup triggers: ${flushRows} rows in ${flushMs.toFixed(1)} ms ` +
    `(${((flushMs * 1000) / flushRows).toFixed(1)} µs per row)`,
)
store.close()
rmSync(dir, { recursive: true, force: true })
