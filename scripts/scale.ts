// Scale figures (not a test): an account tree 6 deep (100,000 accounts) and a year of usage
// (1,000,000 calls over 10,000 accounts) written through xgate's own repos and write path, then
// authentication, access checks, /x-dna paging and /x-bill timed per depth; prints Markdown.
// Run: bun scripts/scale.ts [--quick] [--accounts N] [--records N] [--users N] [--engine E]
// (E sqlite, the default, or postgres: a PostgreSQL server started for the run; or XGATE_BENCH_DB)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bootstrap } from '../src/accounts/bootstrap'
import type { Account } from '../src/accounts/repo'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { buildDeps } from '../src/deps'
import { createFakeClock } from '../src/shared/clock'
import { generateKey, hashKey } from '../src/shared/ids'
import { createLogger } from '../src/shared/log'
import { buildTree, SHAPES, spread, writeUsage, type Member } from '../test/helpers/scale'
import { engineOf } from './bench-pg'
import { lookups, openScaleStore } from './bench-scale-store'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const ACCOUNTS = flag('accounts', quick ? 20_000 : SHAPES.large.total)
const RECORDS = flag('records', quick ? 100_000 : 1_000_000)
const USERS = flag('users', quick ? 2_000 : 10_000)
const DAYS = 365
const START_MS = Date.UTC(2025, 0, 1)
const FIRST_DAY = '2025-01-01'
const LAST_DAY = '2025-12-31'
const MODELS = ['gpt-4o-mini', 'gpt-4.1', 'claude-sonnet-4-0']
/** Samples per depth for the per-call figures. */
const SAMPLES = quick ? 500 : 2_000

const dir = mkdtempSync(join(tmpdir(), 'xgate-scale-'))
const rootKey = generateKey()
const clock = createFakeClock(START_MS)
const ENGINE = engineOf(args)
const scaleStore = await openScaleStore(ENGINE, dir)
const store = scaleStore.store
const config = loadConfig(
  {},
  {
    DATA_DIR: dir,
    TZ: 'UTC',
    LOG_LEVEL: 'error',
    ...(scaleStore.url ? { DATABASE_URL: scaleStore.url } : {}),
  },
)
const deps = await buildDeps(config, store, { log: createLogger({ level: 'error' }), clock })
await bootstrap(store.sql, {
  initUsers: `root::root@scale.example::${rootKey}`,
  dataDir: dir,
  nowMs: clock.now(),
})
const app = createApp(deps)
const say = (line = '') => console.log(line)

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!
}
const us = (ms: number) => (ms * 1000).toFixed(1)
const fmt = (n: number) => n.toLocaleString('en-US')

/** `n` accounts of a level, cycling when it has fewer (depth 1 has 10). */
const pick = (level: readonly Member[], n: number) =>
  Array.from({ length: n }, (_, i) => level[Math.floor((i * level.length) / n) % level.length]!)

/** Times fn once per item, in milliseconds. */
async function timeEach<T>(items: readonly T[], fn: (x: T) => unknown): Promise<number[]> {
  const xs: number[] = []
  for (const x of items) {
    const t = performance.now()
    const r = fn(x)
    if (r instanceof Promise) await r
    xs.push(performance.now() - t)
  }
  return xs
}

async function get(
  path: string,
  key: string,
): Promise<{ ms: number; res: Response; text: string }> {
  const t = performance.now()
  const res = await app.handle(
    new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${key}` } }),
  )
  const text = await res.text()
  const ms = performance.now() - t
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`)
  return { ms, res, text }
}

async function medianOf(runs: number, path: string, key: string) {
  const times: number[] = []
  let last = { ms: 0, res: new Response(), text: '' }
  for (let i = 0; i < runs; i++) {
    last = await get(path, key)
    times.push(last.ms)
  }
  return { ms: median(times), best: Math.min(...times), text: last.text, res: last.res }
}

say(`# xgate scale run: ${fmt(ACCOUNTS)} accounts, ${fmt(RECORDS)} usage records`)
say()
say(`Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}, ${scaleStore.label}`)
say()

// (a) The tree.
let t0 = performance.now()
const tree = await buildTree(deps, { total: ACCOUNTS, fanouts: SHAPES.large.fanouts })
const buildS = (performance.now() - t0) / 1000
say(
  `Built ${fmt(tree.members.length)} accounts (depths 1…${tree.byDepth.length - 1}: ` +
    `${tree.counts.slice(1).map(fmt).join(' / ')}) through the accounts repository in ` +
    `transactions of 10,000, each with a key, a card and its ledger row: ${buildS.toFixed(1)} s ` +
    `(${fmt(Math.round(tree.members.length / buildS))} accounts/s).`,
)
say()

const auth = deps.accounts.auth
const policies = deps.proxy.policies
const accountOf = async (m: Member): Promise<Account> => {
  const a = await auth.authenticate(headersOf(m))
  await deps.proxy.warm(a)
  return a
}
const headersOf = (m: Member) => new Headers({ authorization: `Bearer ${m.key}` })

const gate = deps.limits.gate
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] }

/** The limits step: reserve (HardLimit, each limited account's windows, token estimate), settle. */
function limitCheck(a: Account): void {
  const r = gate.reserve({
    account: a,
    model: 'gpt-4o-mini',
    mappedModel: 'gpt-4o-mini',
    body: chat,
  })
  if (!r.ok) throw new Error(`account ${a.id} limited: ${r.message}`)
  gate.settle(r.ticket, { totalTokens: 30, costNano: 10_000 })
  // 10,000 calls a second of simulated traffic, so the windows slide as they would.
  clock.advance(0.1)
}

/** The pipeline's steps before the upstream call, after authentication (src/proxy/pipeline.ts). */
function accessChecks(a: Account): void {
  const p = policies.of(a)
  if (!p.enabled || !p.ipAllowed('127.0.0.1') || !p.resourceAllowed('/v1/chat/completions'))
    throw new Error(`account ${a.id} refused`)
  if (!p.modelAllowed('gpt-4o-mini')) throw new Error(`account ${a.id}: model refused`)
  p.levelFor('gpt-4o-mini', p.mapModel('gpt-4o-mini'))
  deps.billing.ledger.balanceOf(a.id)
  if (!deps.accounts.tree.view(a.id)?.usable) throw new Error(`account ${a.id} not usable`)
}

say('## Per call, by depth of the calling account')
say()
say(
  `Median (p99) in µs over ${fmt(SAMPLES)} calls per depth. Cold authentication: the key's ` +
    'entry dropped from the LRU first (one read by key hash). Access checks: enabled ' +
    'chain, IP, resource, model, mappers, balance and the tree view; cold = policy and tree ' +
    'caches cleared first (the account chain read from the store and compiled). Limits: ' +
    'deps.limits.gate reserve + settle over the account and each ancestor below root (RPM and ' +
    'RPH at every depth, TPM at depth 1, so the prompt is estimated); the first call of an ' +
    "account also creates that account's own limit scope.",
)
say()
say(
  '| depth | accounts | auth cold | auth warm | access cold | access warm | limits, first call ' +
    '| limits |',
)
say('| --: | --: | --: | --: | --: | --: | --: | --: |')
// The tokenizer loads on the first estimate (~1 s): not part of any figure.
limitCheck(await accountOf(tree.byDepth[1]![0]!))
for (let d = 1; d < tree.byDepth.length; d++) {
  const sample = pick(tree.byDepth[d]!, SAMPLES)
  const headers = sample.map(headersOf)
  const cold = await timeEach(sample.keys().toArray(), async (i) => {
    auth.invalidate(sample[i]!.id)
    await auth.authenticate(headers[i]!)
  })
  const warm = await timeEach(headers, (h) => auth.authenticate(h))
  const accounts: Account[] = []
  for (const m of sample) accounts.push(await accountOf(m))
  // Cold: the tree forgotten, so the account's chain is read again (one statement) first.
  const accessCold = await timeEach(accounts, async (a) => {
    deps.accounts.tree.clear()
    policies.clear()
    await deps.proxy.warm(a)
    accessChecks(a)
  })
  // The proxy warms an account's chain before its checks; after the cold loop only the last is in.
  for (const a of accounts) {
    await deps.proxy.warm(a)
    accessChecks(a)
  }
  const accessWarm = await timeEach(accounts, accessChecks)
  // The first call of an account creates its own limit scope; the figure is the next one.
  const limitsFirst = await timeEach(accounts, limitCheck)
  const limits = await timeEach(accounts, limitCheck)
  const cell = (xs: number[]) => `${us(median(xs))} (${us(p99(xs))})`
  say(
    `| ${d} | ${fmt(tree.byDepth[d]!.length)} | ${cell(cold)} | ${cell(warm)} | ` +
      `${cell(accessCold)} | ${cell(accessWarm)} | ${cell(limitsFirst)} | ${cell(limits)} |`,
  )
}
say()

say('## GET /x-dna?size=1000 paging')
say()
say('Median of 7 requests through the app (ms), first, middle and last page.')
say()
say('| caller | descendants | pages | first | middle | last |')
say('| --- | --: | --: | --: | --: | --: |')
const callers: Array<[string, string]> = [
  ['root', rootKey],
  ['depth 1', tree.byDepth[1]![0]!.key],
  ['depth 2', tree.byDepth[2]![0]!.key],
]
for (const [label, key] of callers) {
  const first = await get('/x-dna?size=1000', key)
  const total = Number(first.res.headers.get('x-total-count'))
  const pages = Number(first.res.headers.get('x-total-pages'))
  const cells: string[] = []
  for (const p of [1, Math.ceil(pages / 2), pages]) {
    cells.push((await medianOf(7, `/x-dna?page=${p}&size=1000`, key)).ms.toFixed(1))
  }
  say(`| ${label} | ${fmt(total)} | ${pages} | ${cells.join(' | ')} |`)
}
say()

// (b) A year of usage through the settler and the write-behind flusher.
const users = spread(tree.members, Math.min(USERS, tree.members.length))
t0 = performance.now()
const cpu0 = process.cpuUsage()
const db0 = scaleStore.pg?.cpuMs() ?? 0
const totals = await writeUsage(deps, clock, {
  records: RECORDS,
  accounts: users,
  startMs: START_MS,
  days: DAYS,
  models: MODELS,
})
const writeS = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
const cpuUsPerRecord = (cpu.user + cpu.system) / RECORDS
const dbCpu = scaleStore.pg
  ? `, and ${(((scaleStore.pg.cpuMs() - db0) * 1000) / RECORDS).toFixed(0)} µs in the server`
  : ''
const inSql = ((totals.flushMs / 1000 / writeS) * 100).toFixed(0)
clock.set(Date.UTC(2025, 11, 31, 23, 0, 0))
say('## Usage: write and report')
say()
say(
  `${fmt(RECORDS)} calls over ${DAYS} days from ${fmt(users.length)} accounts settled through ` +
    `deps.billing.settler (usage record, ledger charge, counters) and written by the flusher ` +
    `(usage_records, ledger, cards, usage_daily and its rollup triggers) in ` +
    `${fmt(totals.flushes)} flushes of FLUSH_MAX_ROWS=${config.FLUSH_MAX_ROWS} rows: ` +
    `${writeS.toFixed(1)} s, ${fmt(Math.round(RECORDS / writeS))} records/s, ` +
    `${cpuUsPerRecord.toFixed(0)} µs of CPU per record in this process${dbCpu} (${inSql} % of the time in the flusher's ` +
    `${ENGINE === 'postgres' ? 'PostgreSQL' : 'SQLite'} transactions).`,
)
say()

const bill = await medianOf(5, `/x-bill?s=${FIRST_DAY}&e=${LAST_DAY}`, rootKey)
const report = JSON.parse(bill.text) as {
  data: unknown[]
  total_usage: { requests: number; cost: number }
  usage_users: unknown[]
}
if (report.total_usage.requests !== RECORDS) {
  throw new Error(`x-bill counted ${report.total_usage.requests} requests, wrote ${RECORDS}`)
}
const mid = tree.byDepth[1]![0]!
const subBill = await medianOf(5, `/x-bill?s=${FIRST_DAY}&e=${LAST_DAY}`, mid.key)
const subUsers = (JSON.parse(subBill.text) as { usage_users: unknown[] }).usage_users.length
const one = users[Math.floor(users.length / 2)]!
const own = await medianOf(5, `/dashboard/bill?s=${FIRST_DAY}&e=${LAST_DAY}`, one.key)
say('| request (2025-01-01…2025-12-31) | accounts | days | bytes | best ms | median of 5 ms |')
say('| --- | --: | --: | --: | --: | --: |')
say(
  `| GET /x-bill as root | ${fmt(report.usage_users.length)} | ${report.data.length} | ` +
    `${fmt(bill.text.length)} | ${bill.best.toFixed(1)} | ${bill.ms.toFixed(1)} |`,
)
say(
  `| GET /x-bill as a depth-1 account | ${fmt(subUsers)} | ${report.data.length} | ` +
    `${fmt(subBill.text.length)} | ${subBill.best.toFixed(1)} | ${subBill.ms.toFixed(1)} |`,
)
say(
  `| GET /dashboard/bill (one depth-${one.depth} account) | 1 | ${report.data.length} | ` +
    `${fmt(own.text.length)} | ${own.best.toFixed(1)} | ${own.ms.toFixed(1)} |`,
)
say()

const count = scaleStore.count
say(
  `Rows: usage_records ${fmt(await count('usage_records'))}, ledger ${fmt(await count('ledger'))}, ` +
    `usage_daily ${fmt(await count('usage_daily'))}, usage_cum ${fmt(await count('usage_cum'))}, ` +
    `usage_tree_daily ${fmt(await count('usage_tree_daily'))}; database ` +
    `${(await scaleStore.sizeMiB()).toFixed(0)} MiB${ENGINE === 'sqlite' ? ' before checkpoint' : ''}.`,
)
const rootDna = (await deps.accounts.repo.findById(1))!.dna
const plans = await scaleStore.plans(
  lookups({ rootDna, accountId: one.id, keyHash: hashKey(one.key), from: FIRST_DAY, to: LAST_DAY }),
)
say()
say(`Query plans${ENGINE === 'postgres' ? ' (EXPLAIN (ANALYZE, BUFFERS), after ANALYZE)' : ''}:`)
say()
for (const p of plans) say(`- ${p.sql}: ${p.plan}${p.scan ? ' **SCAN**' : ''}`)
say()
const violations = await deps.accounts.service.cards.invariantViolations()
say(`Ledger invariant: ${violations.length === 0 ? 'ok' : `${violations.length} accounts FAIL`}.`)
await scaleStore.close()
rmSync(dir, { recursive: true, force: true })
