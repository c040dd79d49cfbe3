// A large account tree and a year of usage, for the scale test and scripts/scale.ts: accounts
// inserted through the accounts repository in big transactions, usage settled call by call through
// the billing settler and stored by the write-behind flusher, exactly as the proxy does.
import { writerOf, type Writer } from '../../src/accounts/writer'
import { baseAccount } from '../../src/accounts/bootstrap'
import type { Account } from '../../src/accounts/repo'
import type { Deps } from '../../src/deps'
import { generateKey, hashKey, newRequestId, partialKey } from '../../src/shared/ids'

export const DAY_MS = 86_400_000
const NANO = 1_000_000_000
/** Accounts inserted per transaction. */
const TREE_BATCH = 10_000

/**
 * `fanouts[i]` children per account at depth i (root is depth 0) down to the last but one level;
 * the deepest level takes what is left of `total`, spread evenly over its parents.
 */
export type TreeShape = { total: number; fanouts: number[] }

export type Member = { id: number; dna: string; depth: number; key: string }

export type BuiltTree = {
  /** Every descendant of root in insertion (breadth-first) order. */
  members: Member[]
  /** byDepth[d]: the accounts at depth d (index 0 unused: root). */
  byDepth: Member[][]
  /** Root and each depth's accounts, by how many there are: 1, 10, 50, … */
  counts: number[]
}

/** Shapes used by the script and the test: 100,000 and 5,000 accounts, 6 deep. */
export const SHAPES = {
  large: { total: 100_000, fanouts: [10, 5, 5, 5, 5] },
  small: { total: 5_000, fanouts: [3, 3, 3, 3, 3] },
} satisfies Record<string, TreeShape>

/**
 * What each depth carries: RPM/RPH caps at every level (never above the parent's), a token limit
 * at depth 1 (so every call's prompt is estimated), and lists narrowed at depths 1–3.
 */
function extras(depth: number): Partial<Account> {
  const out: Partial<Account> = { rpm: 100_000, rph: 1_000_000, gear: depth }
  if (depth === 1) Object.assign(out, { tpm: 100_000_000, allowModels: ['gpt-*', 'claude-*'] })
  if (depth === 2) out.allowIps = ['127.0.0.0/8', '10.0.0.0/8', '::1']
  if (depth === 3) out.resources = ['/v1/*']
  return out
}

/**
 * Inserts `shape.total` descendants of root, breadth first, each with its own key and one card of
 * `creditUsd` (valid a year) with its ledger row, TREE_BATCH accounts per transaction.
 */
export async function buildTree(deps: Deps, shape: TreeShape, creditUsd = 50): Promise<BuiltTree> {
  const repo = deps.accounts.repo
  const nowMs = deps.clock.now()
  const root = await repo.findById(1)
  if (!root) throw new Error('no root account: bootstrap first')
  const depthCount = shape.fanouts.length + 1
  const upper: number[] = [1]
  for (const f of shape.fanouts) upper.push(upper.at(-1)! * f)
  const above = upper.slice(1).reduce((a, b) => a + b, 0)
  const deepest = shape.total - above
  if (deepest < upper.at(-1)!) throw new Error('shape: too few accounts for the deepest level')
  const counts = [...upper, deepest]

  const members: Member[] = []
  const byDepth: Member[][] = [[]]
  let parents: Array<{ id: number; dna: string }> = [{ id: 1, dna: root.dna }]
  let seq = 0
  const pending: Array<(w: Writer) => Promise<void>> = []
  const flush = async () => {
    await deps.sql.tx(async (tx) => {
      const w = writerOf(tx)
      for (const fn of pending) await fn(w)
    })
    pending.length = 0
  }
  for (let depth = 1; depth <= depthCount; depth++) {
    const level: Member[] = []
    const n = counts[depth]!
    for (let i = 0; i < n; i++) {
      // Children go to parents in turn, so the deepest level spreads evenly.
      const parent =
        parents[
          depth <= shape.fanouts.length
            ? Math.floor(i / shape.fanouts[depth - 1]!)
            : i % parents.length
        ]!
      const key = generateKey()
      const name = `scale-${++seq}`
      const m: Member = { id: 0, dna: '', depth, key }
      pending.push(async (w) => {
        const a = await w.accounts.insert(
          {
            ...baseAccount(nowMs),
            ...extras(depth),
            parentId: parent.id,
            name,
            email: `${name}@scale.example`,
            alias: name,
            keyHash: hashKey(key),
            keyTail: partialKey(key),
          },
          parent.dna,
        )
        m.id = a.id
        m.dna = a.dna
        const nano = Math.round(creditUsd * NANO)
        await w.cards.addCard(a.id, nano, nowMs, nowMs + 365 * DAY_MS, null)
        await w.cards.addLedger(a.id, nano, 'recharge', null, nowMs)
      })
      level.push(m)
      if (pending.length >= TREE_BATCH) await flush()
    }
    // The next level needs this one's ids and DNAs.
    await flush()
    byDepth.push(level)
    members.push(...level)
    parents = level
  }
  return { members, byDepth, counts }
}

export type UsagePlan = {
  records: number
  /** The accounts that make calls, in turn. */
  accounts: readonly Member[]
  /** First moment of the period (unix ms); records are spread evenly over `days` days. */
  startMs: number
  days: number
  models: readonly string[]
}

export type UsageTotals = {
  records: number
  requests: number
  costNano: number
  perAccount: Map<number, { requests: number; costNano: number }>
  flushes: number
  /** Time spent in the flusher's transactions (SQLite), of the whole write. */
  flushMs: number
}

type Clocked = { set(ms: number): void }

/**
 * Settles `plan.records` calls in time order through deps.billing.settler (usage record, ledger
 * charge, counters), flushing whenever the backlog reaches FLUSH_MAX_ROWS as the flusher's early
 * flush does. `clock` is the deps' fake clock; it is moved to each call's end.
 */
export async function writeUsage(deps: Deps, clock: Clocked, plan: UsagePlan): Promise<UsageTotals> {
  const { settler, pricing } = deps.billing
  const found = new Map((await deps.accounts.repo.findManyById(plan.accounts.map((m) => m.id))).map((a) => [a.id, a]))
  const accounts = plan.accounts.map((m) => {
    const a = found.get(m.id)
    if (!a) throw new Error(`account ${m.id} missing`)
    return a
  })
  const prices = plan.models.map((m) => {
    const p = pricing().lookup(m)
    if (!p) throw new Error(`model ${m} has no price`)
    return p
  })
  const stepMs = (plan.days * DAY_MS) / plan.records
  const maxRows = deps.config.FLUSH_MAX_ROWS
  const perAccount = new Map<number, { requests: number; costNano: number }>()
  let costNano = 0
  let flushes = 0
  let flushMs = 0
  const flush = async () => {
    const t0 = performance.now()
    const n = await deps.flusher.flushNow()
    flushMs += performance.now() - t0
    if (n > 0) flushes++
  }
  for (let i = 0; i < plan.records; i++) {
    const startedAtMs = plan.startMs + Math.floor(i * stepMs)
    const account = accounts[(i * 7919) % accounts.length]!
    const m = i % plan.models.length
    const prompt = 200 + ((i * 37) % 1800)
    clock.set(startedAtMs + 800)
    const record = settler.settle({
      requestId: newRequestId(startedAtMs),
      startedAtMs,
      account,
      keyId: null,
      keyName: null,
      endpoint: '/v1/chat/completions',
      surface: plan.models[m]!.startsWith('claude') ? 'anthropic' : 'openai',
      model: plan.models[m]!,
      mappedModel: plan.models[m]!,
      status: 200,
      ttfbMs: 120,
      clientIp: '127.0.0.1',
      price: prices[m],
      usage: {
        promptTokens: prompt,
        completionTokens: 50 + ((i * 13) % 700),
        cachedTokens: i % 5 === 0 ? Math.floor(prompt / 2) : 0,
      },
      estimated: false,
      uplinkBytes: prompt * 4,
      downlinkBytes: 2000,
    })
    costNano += record.costNano
    const t = perAccount.get(account.id)
    if (t) {
      t.requests++
      t.costNano += record.costNano
    } else perAccount.set(account.id, { requests: 1, costNano: record.costNano })
    if (deps.flusher.pending() >= maxRows) await flush()
  }
  await flush()
  return { records: plan.records, requests: plan.records, costNano, perAccount, flushes, flushMs }
}

/** Every `step`-th member, for the accounts that make calls. */
export function spread(members: readonly Member[], count: number): Member[] {
  const step = members.length / count
  return Array.from({ length: count }, (_, i) => members[Math.floor(i * step)]!)
}
