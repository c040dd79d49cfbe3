// Checks of the database a kill -9 left (crash-run.ts): CLI check, admin writes, usage lost only
// from the last flush window, limit windows and monthly spend consistent and restored.
import type { Sql } from '../../src/db/sql'
import { testEngine } from '../helpers/engine'
import { expect } from 'bun:test'
import { admin, chat, type CallResult } from '../helpers/load'
import { runCli } from '../helpers/process'
import type { DbFacts } from './books'

export const FLUSH_INTERVAL_MS = 200
/**
 * The flusher's timer runs late when the machine is busy: on a loaded two-core machine a kill that
 * fell just after a tick was due, before it ran, lost calls up to ~215 ms old. The window the
 * assertions allow is one interval plus this much scheduling lag; figures report the strict one.
 */
export const TIMER_LAG_ALLOWANCE_MS = 100
export const LOSS_WINDOW_MS = FLUSH_INTERVAL_MS + TIMER_LAG_ALLOWANCE_MS
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

/** Admin writes answered 200, with what each promised to have stored. */
export type AdminWrite =
  | { op: 'create'; requestId: string; id: number; name: string; creditNano: number }
  | { op: 'fund'; requestId: string; id: number; creditNano: number }
  | { op: 'key'; requestId: string; id: number; name: string }

export async function expectCheckOk(dir: string, when: string) {
  const r = await runCli(['check'], { DATA_DIR: dir })
  expect(r.code, `xgate check ${when}: ${r.stdout} ${r.stderr}`).toBe(0)
  // SQLite's file check; PostgreSQL has no such line (its server keeps its own files whole).
  if (testEngine() === 'sqlite') expect(r.stdout).toContain('integrity_check: ok')
  expect(r.stdout).toContain('ledger: ok')
}

/** Every admin write answered 200 is on disk: the account, and the credit on its ledger. */
export async function expectAdminWrites(db: Sql, writes: AdminWrite[]) {
  for (const w of writes) {
    if (w.op === 'key') {
      expect(
        await db.get('SELECT name FROM upstream_keys WHERE id = ?', [w.id]),
        `upstream key ${w.name} of ${w.requestId} answered 200 is missing`,
      ).toEqual({ name: w.name })
      continue
    }
    const a = (await db.get<{ id: number; name: string }>('SELECT id, name FROM accounts WHERE id = ?', [w.id])) ?? null
    expect(a, `account ${w.id} of ${w.op} ${w.requestId} answered 200 is missing`).not.toBeNull()
    if (w.op === 'create') expect(a!.name).toBe(w.name)
    const rows = await db.all<{ d: number }>(
      "SELECT delta_nano AS d FROM ledger WHERE account_id = ? AND reason = 'recharge' AND ref = ?",
      [w.id, w.requestId],
    )
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
export function expectUsageKept(
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
  const detail =
    `records ${records}, upstream finished ${upstream.okAtKill} ` +
    `(of ${upstream.requestsAtKill} received), ` +
    `${upstream.okAtKill - upstream.okAtWindowStart} of them in the last ${LOSS_WINDOW_MS} ms`
  // A record exists only for a call the upstream finished; the kill may cost the last window.
  expect(records, detail).toBeLessThanOrEqual(upstream.okAtKill)
  expect(lost, detail).toBeLessThanOrEqual(upstream.okAtKill - upstream.okAtWindowStart)
  return { records, lost, lastInterval, oldestLossMs, completed: completed.length }
}

/** Cost of one chat call of the fake upstream (12 prompt, 8 completion tokens of gpt-4o-mini). */
const CALL_COST_NANO = 12 * 150 + 8 * 600
/**
 * What one such call holds at admission: a prompt token per 4 body characters at 0.15 USD/M and
 * gpt-4o-mini's 16,384 output tokens at 0.6 USD/M.
 */
const CALL_BODY = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: false }
const CALL_HOLD_NANO = Math.ceil(JSON.stringify(CALL_BODY).length / 4) * 150 + 16_384 * 600

/** An account's day window (requests, with the day's start) and month's spend, as on disk. */
export type LimitFacts = {
  dayStartMs: number
  dayRequests: number
  monthMs: number
  monthSpendNano: number
}

export async function limitFacts(db: Sql, accountId: number): Promise<LimitFacts> {
  const day =
    (await db.get<{ bucket_ms: number; requests: number }>(
      `SELECT bucket_ms, requests FROM limit_windows WHERE scope = ? AND kind = 'day'
       ORDER BY bucket_ms DESC LIMIT 1`,
      [`a:${accountId}`],
    )) ?? null
  const month =
    (await db.get<{ month_ms: number; spend_nano: number }>(
      `SELECT month_ms, spend_nano FROM month_spend WHERE account_id = ?
       ORDER BY month_ms DESC LIMIT 1`,
      [accountId],
    )) ?? null
  expect(day, `day window of account ${accountId} on disk`).not.toBeNull()
  expect(month, `month spend of account ${accountId} on disk`).not.toBeNull()
  return {
    dayStartMs: day!.bucket_ms,
    dayRequests: day!.requests,
    monthMs: month!.month_ms,
    monthSpendNano: month!.spend_nano,
  }
}

/**
 * The limit windows and the month's spend are written by the same flushes as the usage they
 * count. After a kill, each account's month spend is exactly the cost of its records of the
 * month, and its day window counts at least its records of the day (a call counts when admitted,
 * before it is recorded) and at most the calls its clients made.
 */
export async function expectLimitsPersisted(
  db: Sql,
  accounts: Array<{ id: number; name: string }>,
  callsMade: Map<string, number>,
) {
  for (const a of accounts) {
    const f = await limitFacts(db, a.id)
    const spent = (await db.get<{ c: number }>(
      `SELECT CAST(COALESCE(SUM(cost_nano), 0) AS BIGINT) AS c FROM usage_records
       WHERE account_id = ? AND created_at >= ?`,
      [a.id, f.monthMs],
    ))!.c
    expect(f.monthSpendNano, `month spend of ${a.name} vs its usage records`).toBe(spent)
    const recorded = (await db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM usage_records WHERE account_id = ? AND created_at >= ?',
      [a.id, f.dayStartMs],
    ))!.n
    const what = `day window of ${a.name}: ${f.dayRequests} requests, ${recorded} records`
    expect(f.dayRequests, what).toBeGreaterThanOrEqual(recorded)
    expect(f.dayRequests, what).toBeLessThanOrEqual(callsMade.get(a.name) ?? 0)
  }
}

async function threeCalls(url: string, key: string) {
  const out: Array<[number, string | null]> = []
  for (let i = 0; i < 3; i++) {
    const r = await chat(url, key, { stream: false })
    out.push([r.status, r.status === 200 ? null : (r.body?.error?.code ?? r.error)])
  }
  return out
}

/**
 * After a restart the limits start from what is on disk: with RPD set to the restored day count
 * plus two, and HardLimit to the restored month spend plus one call and one call's hold, exactly
 * two calls pass and the third is refused (its hold would pass the limit).
 */
export async function expectLimitsRestored(
  url: string,
  rootKey: string,
  byRequests: { id: number; key: string; facts: LimitFacts },
  bySpend: { id: number; key: string; facts: LimitFacts },
) {
  const rpd = byRequests.facts.dayRequests + 2
  const set = await admin(url, rootKey, 'PUT', `/x-users/${byRequests.id}`, { RPD: rpd })
  expect(set.status, set.error ?? '').toBe(200)
  expect(await threeCalls(url, byRequests.key), `RPD ${rpd} after the restart`).toEqual([
    [200, null],
    [200, null],
    [429, 'rate_limit_exceeded'],
  ])
  const limitUsd = (bySpend.facts.monthSpendNano + CALL_COST_NANO + CALL_HOLD_NANO) / 1e9
  const hard = await admin(url, rootKey, 'PUT', `/x-users/${bySpend.id}`, {
    HardLimit: limitUsd,
    SoftLimit: limitUsd,
  })
  expect(hard.status, hard.error ?? '').toBe(200)
  expect(await threeCalls(url, bySpend.key), `HardLimit ${limitUsd} USD after the restart`).toEqual(
    [
      [200, null],
      [200, null],
      [429, 'hard_limit_reached'],
    ],
  )
}
