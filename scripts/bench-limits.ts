// Benchmark of the access and limit checks one proxied call runs (not a test): at 100,000
// accounts in a tree (root → 100 resellers → 1,000 tenants each) with RPM…TPD, ModelLimits and
// MODEL_LIMITS set, it times what the pipeline does before and after the upstream call: access
// lists, balance, the gate's reserve (HardLimit, windows of the account and its parent, per-model
// scopes, the token estimate when a token limit applies) and settle. Prints µs per check.
// Run: bun scripts/bench-limits.ts [accounts] [checks]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baseAccount, bootstrap } from '../src/accounts/bootstrap'
import type { Account } from '../src/accounts/repo'
import { loadConfig } from '../src/config'
import { openStore } from '../src/db/open'
import { buildDeps } from '../src/deps'
import { createWindowsRepo } from '../src/limits/repo'
import type { WindowRow } from '../src/limits/windows'
import { createFakeClock } from '../src/shared/clock'
import { generateKey, hashKey, partialKey } from '../src/shared/ids'
import { createLogger } from '../src/shared/log'

const TOTAL = Number(process.argv[2] ?? 100_000)
const CHECKS = Number(process.argv[3] ?? 1_000_000)
const RESELLERS = 100
const PER = Math.ceil(TOTAL / RESELLERS) - 1
const NANO = 1_000_000_000
/** Simulated traffic: the clock moves 0.1 ms per call, i.e. 10,000 calls a second. */
const STEP_MS = 0.1

const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-limits-'))
const config = loadConfig(
  {},
  {
    DATA_DIR: dir,
    TZ: 'Europe/Berlin',
    MODEL_LIMITS: '{"gpt-4o-mini": {"rpm": 600, "tpm": 200000}, "claude-*": {"rpm": 100}}',
  },
)
const clock = createFakeClock(Date.now())
const store = openStore(dir, { lock: false })
const deps = await buildDeps(config, store, { log: createLogger({ level: 'error' }), clock })
await bootstrap(store.sql, {
  initUsers: `root::root@example.com::${generateKey()}`,
  dataDir: dir,
  nowMs: Date.now(),
})
const repo = deps.accounts.repo

// Build with the repository directly: this measures the checks, not account creation.
const t0 = performance.now()
const ids: number[] = []
const now = Date.now()
const insert = async (parent: Account, name: string, fields: Partial<Account>) => {
  const key = generateKey()
  const a = await repo.insert(
    {
      ...baseAccount(now),
      parentId: parent.id,
      name,
      email: `${name}@bench.example`,
      alias: name,
      keyHash: hashKey(key),
      keyTail: partialKey(key),
      ...fields,
    },
    parent.dna,
  )
  await deps.accounts.service.cards.addCard(a.id, 100 * NANO, now, now + 365 * 86_400_000, 'bench')
  await deps.accounts.service.cards.addLedger(a.id, 100 * NANO, 'recharge', 'bench', now)
  return a
}
const root = (await repo.findById(1))!
for (let r = 0; r < RESELLERS; r++) {
  store.db.transaction(async () => {
    const reseller = await insert(root, `res-${r}`, {
      rpm: 100_000,
      rph: 1_000_000,
      tpd: 500_000_000,
      allowIps: ['10.0.0.0/8', '2001:db8::/32'],
      modelLimits: { 'gpt-4o': { rpm: 5_000 } },
    })
    ids.push(reseller.id)
    for (let k = 0; k < PER && ids.length < TOTAL; k++) {
      const tokens = k % 2 === 0
      const a = await insert(reseller, `t-${r}-${k}`, {
        rpm: 600,
        rpd: 20_000,
        tpm: tokens ? 100_000 : 0,
        allowModels: ['gpt-4o*', 'claude-*'],
        modelLimits: k % 10 === 0 ? { 'gpt-4o-mini': { rpm: 1_200 } } : null,
      })
      ids.push(a.id)
    }
  })()
}
const buildS = (performance.now() - t0) / 1000

const tree = deps.accounts.tree
const policies = deps.proxy.policies
const ledger = deps.billing.ledger
const gate = deps.limits.gate
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] }
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-haiku-4-5']
const minNano = config.CALL_MIN_BALANCE * NANO

type Phase = { policy: number; balance: number; reserve: number; settle: number; n: number }
const phase = (): Phase => ({ policy: 0, balance: 0, reserve: 0, settle: 0, n: 0 })
const bodies = MODELS.map((model) => ({ ...body, model }))
let denied = 0

/** What the pipeline runs for one call before and after its upstream fetch. */
function checks(id: number, i: number) {
  const account = tree.get(id)!
  const model = MODELS[i % 3]!
  const policy = policies.of(account)
  const allowed =
    policy.enabled &&
    policy.ipAllowed(i % 2 ? '10.1.2.3' : '2001:db8::9') &&
    policy.resourceAllowed('/v1/chat/completions') &&
    policy.modelAllowed(model)
  const mapped = policy.mapModel(model)
  const funded = ledger.balanceOf(id) >= minNano
  if (!allowed || !funded) throw new Error(`account ${id} refused: check the bench set-up`)
  const r = gate.reserve({ account, model, mappedModel: mapped, body: bodies[i % 3]! })
  if (r.ok) gate.settle(r.ticket, { totalTokens: 20, costNano: 6_600 })
  else denied++
  clock.advance(STEP_MS)
}

/** The same, each step timed by the wall clock, for the breakdown. */
function timed(id: number, i: number, p: Phase) {
  const account = tree.get(id)!
  const model = MODELS[i % 3]!
  let t = performance.now()
  const policy = policies.of(account)
  policy.ipAllowed(i % 2 ? '10.1.2.3' : '2001:db8::9')
  policy.resourceAllowed('/v1/chat/completions')
  policy.modelAllowed(model)
  const mapped = policy.mapModel(model)
  let t2 = performance.now()
  p.policy += t2 - t
  t = t2
  ledger.balanceOf(id)
  t2 = performance.now()
  p.balance += t2 - t
  t = t2
  const r = gate.reserve({ account, model, mappedModel: mapped, body: bodies[i % 3]! })
  t2 = performance.now()
  p.reserve += t2 - t
  t = t2
  if (r.ok) gate.settle(r.ticket, { totalTokens: 20, costNano: 6_600 })
  p.settle += performance.now() - t
  p.n++
  clock.advance(STEP_MS)
}

// Warm the tokenizer so its one-off load (~1 s) is not in any figure.
gate.reserve({ account: tree.get(ids[1]!)!, model: 'x', mappedModel: 'x', body })

/** CPU seconds of this process (user + system): robust when other work shares the cores. */
const cpuS = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}
let seed = 12345
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
const pick = () => ids[Math.floor(rand() * ids.length)]!

let c1 = cpuS()
for (let i = 0; i < ids.length; i++) checks(ids[i]!, i)
const coldUs = ((cpuS() - c1) * 1e6) / ids.length

// Steady state: random accounts; the write-behind drains the limit store every 200 ms of
// simulated time (2,000 calls) and upserts its rows, as the flusher does.
const save = (rows: WindowRow[]) => store.sql.tx((tx) => createWindowsRepo(tx).save(rows))
let flushS = 0
let flushedRows = 0
c1 = cpuS()
for (let i = 0; i < CHECKS; i++) {
  checks(pick(), i)
  if (i % 2_000 === 1_999) {
    const f = cpuS()
    const rows = deps.limits.windows.drain()
    await save(rows)
    flushedRows += rows.length
    flushS += cpuS() - f
  }
}
const warmUs = ((cpuS() - c1 - flushS) * 1e6) / CHECKS
const flushUs = (flushS * 1e6) / CHECKS

const parts = phase()
for (let i = 0; i < 200_000; i++) timed(pick(), i, parts)

Bun.gc(true)
const mem = process.memoryUsage()
const stats = deps.limits.windows.stats()

const us = (ms: number, n: number) => ((ms * 1000) / n).toFixed(2)
const rows: Array<[string, string]> = [
  ['first call of each account (cold caches), CPU', coldUs.toFixed(2)],
  [`random account, warm: CPU per call (${CHECKS} calls, ${denied} denied)`, warmUs.toFixed(2)],
  [
    `  write-behind of the windows (${flushedRows} rows upserted), CPU per call`,
    flushUs.toFixed(2),
  ],
  [
    '  breakdown (wall, timers included): access lists (IP, path, model, map)',
    us(parts.policy, parts.n),
  ],
  ['  balance ≥ CALL_MIN_BALANCE', us(parts.balance, parts.n)],
  ['  gate.reserve (HardLimit, windows, token estimate)', us(parts.reserve, parts.n)],
  ['  gate.settle', us(parts.settle, parts.n)],
]

console.log(`\naccounts: ${await repo.count()} (${RESELLERS} resellers), built in ${buildS.toFixed(1)} s`)
console.log(`scopes held: ${stats.scopes}, bucket slots: ${stats.bucketSlots}`)
console.log(
  `memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB\n`,
)
console.log(`${'check'.padEnd(76)}  µs/call`)
for (const [a, b] of rows) console.log(`${a.padEnd(76)}  ${b.padStart(7)}`)
store.close()
rmSync(dir, { recursive: true, force: true })
