// The kill -9 scenario shared by the quick test (test/reliability) and the soak (test/soak): the
// real `xgate serve` as a child process in front of a fake upstream, steady load (chat calls,
// streamed and not, from several accounts, plus admin writes), kill -9 mid-load, restart on the
// same DATA_DIR, and the durability promises of SPEC §10 checked after every kill.
import { Database } from 'bun:sqlite'
import { expect } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { generateKey } from '../../src/shared/ids'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { tempDir } from '../helpers/gateway'
import { admin, chat, startLoad, type CallResult } from '../helpers/load'
import { runCli, startServe, type Child } from '../helpers/process'
import { dbFacts, expectBooksBalanced, type DbFacts } from './books'

export const FLUSH_INTERVAL_MS = 200
/**
 * The flusher's timer runs late when the machine is busy: on a loaded two-core machine a kill that
 * fell just after a tick was due, before it ran, lost calls up to ~215 ms old. The window the
 * assertions allow is one interval plus this much scheduling lag; figures report the strict one.
 */
export const TIMER_LAG_ALLOWANCE_MS = 100
const LOSS_WINDOW_MS = FLUSH_INTERVAL_MS + TIMER_LAG_ALLOWANCE_MS
const NANO = 1_000_000_000
const SECRET = 'sk-fake-crash-upstream-0001'

export type CrashOptions = {
  cycles: number
  /** Load before each kill, ms. */
  loadMs: number
  concurrency: number
  /** Accounts making proxied calls. */
  accounts: number
  /** One call in `adminEvery` is an admin write. */
  adminEvery: number
  /**
   * Cycles whose last QUIET_MS of load carry only admin writes that do not flush (new upstream
   * keys), so the usage kept depends on the flusher's timer; in the others, account writes (which
   * flush first) run until the kill. Default: every cycle quiet.
   */
  quietTail?: (cycle: number) => boolean
}

/** Long enough for several timer flushes to be the only ones before a kill. */
const QUIET_MS = 4 * FLUSH_INTERVAL_MS

export type CycleFigures = {
  calls: number
  completed: number
  admin200: number
  records: number
  upstreamOk: number
  lost: number
  /** Calls the client saw complete within the last FLUSH_INTERVAL_MS before the kill. */
  lastInterval: number
  /** How long before the kill the earliest call without its record ended, ms (0: none lost). */
  oldestLossMs: number
}

export type CrashFigures = { cycles: CycleFigures[]; elapsedMs: number }

type LoadAccount = { id: number; name: string; key: string }

/** Admin writes answered 200, with what each promised to have stored. */
type AdminWrite =
  | { op: 'create'; requestId: string; id: number; name: string; creditNano: number }
  | { op: 'fund'; requestId: string; id: number; creditNano: number }
  | { op: 'key'; requestId: string; id: number; name: string }

function openDb(dir: string): Database {
  return new Database(join(dir, 'xgate.db'), { readonly: true })
}

async function createAccount(url: string, rootKey: string, name: string, credit: number) {
  const r = await admin(url, rootKey, 'POST', '/x-users', {
    Name: name,
    Email: `${name}@example.com`,
    CreditGranted: credit,
  })
  expect(r.status, `create ${name}: ${r.error}`).toBe(200)
  return { id: r.body.User.ID as number, name, key: r.body.User.SecretKey as string }
}

/**
 * An admin write that does not flush the write-behind (account writes do): a new upstream key,
 * pointing at the same fake provider. It keeps admin writes in flight at the kill while the usage
 * on disk depends on the flusher's timer alone.
 */
function keyTask(
  url: string,
  rootKey: string,
  provider: string,
  c: number,
  n: number,
  writes: AdminWrite[],
) {
  const name = `crash${c}k${n}`
  return admin(
    url,
    rootKey,
    'POST',
    '/x-keys',
    {
      SecretKey: `sk-fake-crash-${c}-${n}-000000`,
      Name: name,
      Provider: provider,
      Level: 1,
    },
    `add key ${name}`,
  ).then((r) => {
    if (r.status === 200 && r.requestId)
      writes.push({ op: 'key', requestId: r.requestId, id: r.body.Key.ID, name })
    return r
  })
}

/** Admin write n of cycle c: a new account, or funds for a load account or an earlier new one. */
function adminTask(
  url: string,
  rootKey: string,
  c: number,
  n: number,
  loadAccounts: LoadAccount[],
  writes: AdminWrite[],
): Promise<CallResult> {
  const created = writes.filter(
    (w): w is Extract<AdminWrite, { op: 'create' }> => w.op === 'create',
  )
  if (n % 3 === 0 || created.length === 0) {
    const name = `crash${c}n${n}`
    return admin(
      url,
      rootKey,
      'POST',
      '/x-users',
      {
        Name: name,
        Email: `${name}@example.com`,
        CreditGranted: 3,
      },
      `create ${name}`,
    ).then((r) => {
      if (r.status === 200 && r.requestId)
        writes.push({
          op: 'create',
          requestId: r.requestId,
          id: r.body.User.ID,
          name,
          creditNano: 3 * NANO,
        })
      return r
    })
  }
  const target =
    n % 3 === 1 ? loadAccounts[n % loadAccounts.length]!.id : created[n % created.length]!.id
  const amount = 1 + (n % 4)
  return admin(
    url,
    rootKey,
    'PUT',
    `/x-users/${target}`,
    { CreditGranted: amount },
    `fund ${target}`,
  ).then((r) => {
    if (r.status === 200 && r.requestId)
      writes.push({ op: 'fund', requestId: r.requestId, id: target, creditNano: amount * NANO })
    return r
  })
}

/** Samples the fake upstream's finished-call count so the test knows it at any past moment. */
function sampleTally(up: FakeUpstream) {
  const samples: Array<{ atMs: number; ok: number }> = []
  const timer = setInterval(() => samples.push({ atMs: Date.now(), ok: up.tally.ok }), 5)
  return {
    /** Finished upstream calls at the last sample taken at or before `atMs`. */
    okAt(atMs: number): number {
      let ok = 0
      for (const s of samples) if (s.atMs <= atMs) ok = s.ok
      return ok
    },
    stop: () => clearInterval(timer),
  }
}

async function expectCheckOk(dir: string, when: string) {
  const r = await runCli(['check'], { DATA_DIR: dir })
  expect(r.code, `xgate check ${when}: ${r.stdout} ${r.stderr}`).toBe(0)
  expect(r.stdout).toContain('integrity_check: ok')
  expect(r.stdout).toContain('ledger: ok')
}

/** Every admin write answered 200 is on disk: the account, and the credit on its ledger. */
function expectAdminWrites(db: Database, writes: AdminWrite[]) {
  const account = db.prepare('SELECT id, name FROM accounts WHERE id = ?')
  const key = db.prepare('SELECT name FROM upstream_keys WHERE id = ?')
  const credit = db.prepare(
    "SELECT delta_nano AS d FROM ledger WHERE account_id = ? AND reason = 'recharge' AND ref = ?",
  )
  for (const w of writes) {
    if (w.op === 'key') {
      expect(
        key.get(w.id),
        `upstream key ${w.name} of ${w.requestId} answered 200 is missing`,
      ).toEqual({ name: w.name })
      continue
    }
    const a = account.get(w.id) as { id: number; name: string } | null
    expect(a, `account ${w.id} of ${w.op} ${w.requestId} answered 200 is missing`).not.toBeNull()
    if (w.op === 'create') expect(a!.name).toBe(w.name)
    const rows = credit.all(w.id, w.requestId) as Array<{ d: number }>
    expect(rows, `ledger credit of ${w.op} ${w.requestId} (account ${w.id})`).toEqual([
      { d: w.creditNano },
    ])
  }
}

/**
 * Usage after a kill at `killAtMs`: each call the client saw complete before the loss window
 * (one flush interval plus the timer-lag allowance) has its record; the records of the cycle are
 * what the upstream finished, less at most what it finished within the window.
 */
function expectUsageKept(
  facts: DbFacts,
  before: Set<string>,
  results: CallResult[],
  killAtMs: number,
  upstream: { okAtKill: number; okAtWindowStart: number; requestsAtKill: number },
): Pick<CycleFigures, 'records' | 'lost' | 'lastInterval' | 'completed' | 'oldestLossMs'> {
  const completed = results.filter((r) => r.kind !== 'admin' && r.complete)
  const old = completed.filter((r) => r.endedAtMs <= killAtMs - LOSS_WINDOW_MS)
  const missingOld = old.filter((r) => !facts.usageIds.has(r.requestId!))
  expect(
    missingOld.map((r) => `${r.requestId} ended ${killAtMs - r.endedAtMs} ms before the kill`),
    `calls completed more than ${LOSS_WINDOW_MS} ms before the kill lost their usage record`,
  ).toEqual([])
  const missingCalls = completed.filter((r) => !facts.usageIds.has(r.requestId!))
  expect(missingCalls.length).toBeLessThanOrEqual(completed.length - old.length)
  const oldestLossMs = Math.max(0, ...missingCalls.map((r) => killAtMs - r.endedAtMs))
  const lastInterval = completed.filter((r) => r.endedAtMs > killAtMs - FLUSH_INTERVAL_MS).length

  const records = [...facts.usageIds].filter((id) => !before.has(id)).length
  const lost = upstream.okAtKill - records
  const detail = `records ${records}, upstream finished ${upstream.okAtKill} (of ${upstream.requestsAtKill} received), ${upstream.okAtKill - upstream.okAtWindowStart} of them in the last ${LOSS_WINDOW_MS} ms`
  // A record exists only for a call the upstream finished; the kill may cost the last window.
  expect(records, detail).toBeLessThanOrEqual(upstream.okAtKill)
  expect(lost, detail).toBeLessThanOrEqual(upstream.okAtKill - upstream.okAtWindowStart)
  return { records, lost, lastInterval, oldestLossMs, completed: completed.length }
}

export async function runCrashCycles(opts: CrashOptions): Promise<CrashFigures> {
  const started = Date.now()
  const dir = tempDir('xgate-crash-')
  const rootKey = generateKey()
  const up = await startFakeUpstream({ chunks: 6, chunkDelayMs: 4, maxCalls: 0 })
  const env = {
    DATA_DIR: dir,
    INIT_USERS: `root::root@example.com::${rootKey}`,
    INIT_KEYS: `${SECRET}::${up.url}`,
    FLUSH_INTERVAL_MS: String(FLUSH_INTERVAL_MS),
    LOG_LEVEL: 'error',
  }
  let child: Child | null = null
  const figures: CycleFigures[] = []
  const writes: AdminWrite[] = []
  try {
    child = await startServe(env)
    const loadAccounts: LoadAccount[] = []
    for (let i = 0; i < opts.accounts; i++)
      loadAccounts.push(await createAccount(child.url, rootKey, `crashload${i}`, 50))

    let before = new Set<string>()
    for (let c = 0; c < opts.cycles; c++) {
      if (!child) child = await startServe(env)
      const url = child.url
      up.reset()
      const sampler = sampleTally(up)
      const quietAt = (opts.quietTail ?? (() => true))(c)
        ? Date.now() + opts.loadMs - QUIET_MS
        : Number.POSITIVE_INFINITY
      const load = startLoad({
        concurrency: opts.concurrency,
        task: (n) => {
          if (n % opts.adminEvery === opts.adminEvery - 1) {
            return Date.now() < quietAt
              ? adminTask(url, rootKey, c, n, loadAccounts, writes)
              : keyTask(url, rootKey, up.url, c, n, writes)
          }
          const a = loadAccounts[n % loadAccounts.length]!
          return chat(url, a.key, { stream: n % 2 === 0, label: a.name, timeoutMs: 15_000 })
        },
      })
      // A random phase against the flusher's ticks, so kills also land just before one.
      await Bun.sleep(opts.loadMs + Math.floor(Math.random() * FLUSH_INTERVAL_MS))
      const okAtKill = up.tally.ok
      const requestsAtKill = up.tally.requests
      const killAtMs = Date.now()
      child.proc.kill('SIGKILL')
      await child.proc.exited
      child = null
      const results = await load.stop()
      sampler.stop()
      const okAtWindowStart = sampler.okAt(killAtMs - LOSS_WINDOW_MS)

      const admin200 = results.filter((r) => r.kind === 'admin' && r.status === 200).length
      expect(admin200, 'admin writes answered 200 during the load').toBeGreaterThan(0)

      // The database as the kill left it: the CLI check, then our own reading.
      await expectCheckOk(dir, `after kill ${c + 1}`)
      const db = openDb(dir)
      let facts: DbFacts
      try {
        facts = dbFacts(db)
        expectBooksBalanced(db, facts)
        expectAdminWrites(db, writes)
      } finally {
        db.close()
      }
      const usage = expectUsageKept(facts, before, results, killAtMs, {
        okAtKill,
        okAtWindowStart,
        requestsAtKill,
      })
      before = facts.usageIds
      const calls = results.filter((r) => r.kind !== 'admin').length
      figures.push({ calls, admin200, upstreamOk: okAtKill, ...usage })
    }

    // The lock is free after the last kill: the server starts again on the same DATA_DIR and
    // serves the accounts the admin writes created, with the balances the books say.
    child = await startServe(env)
    const last = writes.filter((w) => w.op === 'create').at(-1)!
    const seen = await admin(child.url, rootKey, 'GET', `/x-users/${last.name}`)
    expect(seen.status, seen.error ?? '').toBe(200)
    const a = loadAccounts[0]!
    const after = await chat(child.url, a.key, { stream: true, label: a.name })
    expect(after.complete, `a call after the restart: ${after.error}`).toBe(true)
    child.proc.kill('SIGTERM')
    expect(await child.proc.exited).toBe(0)
    child = null
    await expectCheckOk(dir, 'after the final restart')
    return { cycles: figures, elapsedMs: Date.now() - started }
  } finally {
    if (child) {
      child.proc.kill('SIGKILL')
      await child.proc.exited
    }
    await up.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
