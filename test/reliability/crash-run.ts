// The kill -9 scenario of the quick test and the soak: `xgate serve` as a child process under load
// with admin writes, killed, restarted on the same DATA_DIR, SPEC §10 checked after every kill.
import { openDataOf } from '../helpers/engine'
import { expect } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { generateKey } from '../../src/shared/ids'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { tempDir } from '../helpers/gateway'
import { admin, chat, startLoad, type CallResult } from '../helpers/load'
import { runCli, startServe, type Child } from '../helpers/process'
import { dbFacts, expectBooksBalanced, type DbFacts } from './books'
import {
  expectAdminWrites,
  expectCheckOk,
  expectLimitsPersisted,
  expectLimitsRestored,
  limitFacts,
  type LimitFacts,
  expectUsageKept,
  FLUSH_INTERVAL_MS,
  LOSS_WINDOW_MS,
  type AdminWrite,
  type CycleFigures,
} from './crash-checks'

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

export type CrashFigures = { cycles: CycleFigures[]; elapsedMs: number }

type LoadAccount = { id: number; name: string; key: string }

/** The records as the kill left them (the SQLite file, or the PostgreSQL database of DATA_DIR). */
const openDb = (dir: string) => openDataOf(dir)

async function createAccount(url: string, rootKey: string, name: string, credit: number) {
  const r = await admin(url, rootKey, 'POST', '/x-users', {
    Name: name,
    Email: `${name}@example.com`,
    CreditGranted: credit,
    // A day window to persist and restore; far above what the load makes.
    RPD: 1_000_000,
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
    const callsMade = new Map<string, number>()
    let lastLimits: LimitFacts[] = []
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
        task: async (n) => {
          if (n % opts.adminEvery === opts.adminEvery - 1) {
            return Date.now() < quietAt
              ? await adminTask(url, rootKey, c, n, loadAccounts, writes)
              : await keyTask(url, rootKey, up.url, c, n, writes)
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
      for (const r of results)
        if (r.kind !== 'admin') callsMade.set(r.label, (callsMade.get(r.label) ?? 0) + 1)
      sampler.stop()
      const okAtWindowStart = sampler.okAt(killAtMs - LOSS_WINDOW_MS)

      const admin200 = results.filter((r) => r.kind === 'admin' && r.status === 200).length
      expect(admin200, 'admin writes answered 200 during the load').toBeGreaterThan(0)

      // The database as the kill left it: the CLI check, then our own reading.
      await expectCheckOk(dir, `after kill ${c + 1}`)
      const db = await openDb(dir)
      let facts: DbFacts
      try {
        facts = await dbFacts(db)
        await expectBooksBalanced(db, facts)
        await expectAdminWrites(db, writes)
        await expectLimitsPersisted(db, loadAccounts, callsMade)
        lastLimits = []
        for (const a of loadAccounts) lastLimits.push(await limitFacts(db, a.id))
      } finally {
        await db.close()
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
    // Limit windows and monthly spend come back from disk: lowered limits bite at once.
    await expectLimitsRestored(
      child.url,
      rootKey,
      { ...loadAccounts[0]!, facts: lastLimits[0]! },
      { ...loadAccounts[1]!, facts: lastLimits[1]! },
    )
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
