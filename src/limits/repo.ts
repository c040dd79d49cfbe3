// SQL of the limit store: the limit_windows and month_spend tables, upserted by the write-behind
// and read once at start. The same SQL on both engines: plain types, positional parameters, ON CONFLICT.

import { insertAll } from '../db/chunked'
import { idList, inIdList, type Sql } from '../db/sql'
import type { MonthRow } from './monthly'
import { HOUR, MINUTE } from './ring'
import type { WindowKind, WindowRow } from './windows'

// BIGINT, not INTEGER: unix ms and token totals pass 2^31, which is PostgreSQL's INTEGER range.
// SQLite gives BIGINT the same integer affinity as INTEGER. Keyed time first so the upserts of the
// write-behind land at the B-tree's right edge (migration 5 says why).
export const LIMIT_WINDOWS_DDL = `CREATE TABLE IF NOT EXISTS limit_windows (
  scope TEXT NOT NULL,
  kind TEXT NOT NULL,
  bucket_ms BIGINT NOT NULL,
  requests BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  PRIMARY KEY (kind, bucket_ms, scope)
) WITHOUT ROWID`

export const MONTH_SPEND_DDL = `CREATE TABLE IF NOT EXISTS month_spend (
  account_id BIGINT NOT NULL,
  month_ms BIGINT NOT NULL,
  spend_nano BIGINT NOT NULL,
  PRIMARY KEY (account_id, month_ms)
)`

/** A day row is surely over this long after its start (days last 23 to 25 h). */
const DAY_KEEP_MS = 2 * 86_400_000

export type WindowsRepo = {
  /** Upserts rows; a row with no requests and no tokens is deleted. Run inside a transaction. */
  save(rows: ReadonlyArray<WindowRow>): Promise<void>
  loadAll(): Promise<WindowRow[]>
  /** Deletes buckets that have left their window by `nowMs`; run now and then, not every flush. */
  prune(nowMs: number): Promise<void>
}

const WINDOW_HEAD = 'INSERT INTO limit_windows (scope, kind, bucket_ms, requests, tokens) VALUES '
const WINDOW_TAIL =
  ' ON CONFLICT (kind, bucket_ms, scope) DO UPDATE SET requests = excluded.requests, tokens = excluded.tokens'
const DELETE_WINDOW = 'DELETE FROM limit_windows WHERE kind = ? AND bucket_ms = ? AND scope = ?'

/** The last row of each key, in order: one statement may not upsert a key twice (PostgreSQL). */
function lastOfEach<T>(rows: ReadonlyArray<T>, keyOf: (r: T) => string): T[] {
  const byKey = new Map<string, T>()
  for (const r of rows) {
    const k = keyOf(r)
    byKey.delete(k)
    byKey.set(k, r)
  }
  return [...byKey.values()]
}

export function createWindowsRepo(sql: Sql): WindowsRepo {
  return {
    async save(rows) {
      // Each key's last value wins (rows carry absolute values); upserts go 64 rows a statement.
      const last = lastOfEach(rows, (r) => `${r.kind}\n${r.bucketMs}\n${r.scope}`)
      const upserts = last.filter((r) => r.requests !== 0 || r.tokens !== 0)
      for (const r of last)
        if (r.requests === 0 && r.tokens === 0) await sql.run(DELETE_WINDOW, [r.kind, r.bucketMs, r.scope])
      await insertAll(sql, WINDOW_HEAD, '(?, ?, ?, ?, ?)', WINDOW_TAIL, upserts, (a, r) => {
        a.push(r.scope, r.kind, r.bucketMs, r.requests, r.tokens)
      })
    },
    async loadAll() {
      const rows = await sql.all<{ scope: string; kind: string; bucket_ms: number; requests: number; tokens: number }>(
        'SELECT scope, kind, bucket_ms, requests, tokens FROM limit_windows',
      )
      return rows.map((r) => ({
        scope: r.scope,
        kind: r.kind as WindowKind,
        bucketMs: r.bucket_ms,
        requests: r.requests,
        tokens: r.tokens,
      }))
    },
    async prune(nowMs) {
      // A bucket starting at b has left its window once now >= b + slots × bucketMs.
      await sql.run(
        `DELETE FROM limit_windows WHERE (kind = 'minute' AND bucket_ms <= ?)
           OR (kind = 'hour' AND bucket_ms <= ?) OR (kind = 'day' AND bucket_ms <= ?)`,
        [nowMs - MINUTE.slots * MINUTE.bucketMs, nowMs - HOUR.slots * HOUR.bucketMs, nowMs - DAY_KEEP_MS],
      )
    },
  }
}

export type MonthSpendRepo = {
  /** Upserts rows. Run inside a transaction. */
  save(rows: ReadonlyArray<MonthRow>): Promise<void>
  /** Rows of months starting at or after `sinceMs` (pass the current month's start at boot). */
  loadSince(sinceMs: number): Promise<MonthRow[]>
  /**
   * What the given accounts spent in the local month `monthKey` (YYYY-MM) by the usage rows every
   * node has written (usage_daily; each call once): the month spend several nodes agree on.
   */
  spentIn(accountIds: readonly number[], monthKey: string): Promise<Map<number, number>>
}

export function createMonthSpendRepo(sql: Sql): MonthSpendRepo {
  return {
    async save(rows) {
      const last = lastOfEach(rows, (r) => `${r.accountId}\n${r.monthMs}`)
      await insertAll(
        sql,
        'INSERT INTO month_spend (account_id, month_ms, spend_nano) VALUES ',
        '(?, ?, ?)',
        ' ON CONFLICT (account_id, month_ms) DO UPDATE SET spend_nano = excluded.spend_nano',
        last,
        (a, r) => {
          a.push(r.accountId, r.monthMs, r.spendNano)
        },
      )
    },
    async loadSince(sinceMs) {
      const rows = await sql.all<{ account_id: number; month_ms: number; spend_nano: number }>(
        'SELECT account_id, month_ms, spend_nano FROM month_spend WHERE month_ms >= ?',
        [sinceMs],
      )
      return rows.map((r) => ({ accountId: r.account_id, monthMs: r.month_ms, spendNano: r.spend_nano }))
    },
    async spentIn(accountIds, monthKey) {
      const out = new Map<number, number>()
      if (accountIds.length === 0) return out
      const rows = await sql.all<{ account_id: number; spent: number }>(
        `SELECT account_id, CAST(SUM(cost_nano) AS BIGINT) AS spent FROM usage_daily
         WHERE ${inIdList(sql, 'account_id')} AND day BETWEEN ? AND ? GROUP BY account_id`,
        [idList(sql, accountIds), `${monthKey}-01`, `${monthKey}-31`],
      )
      for (const r of rows) out.set(r.account_id, Number(r.spent))
      return out
    },
  }
}
