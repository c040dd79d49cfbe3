// SQL of the limit store: the limit_windows and month_spend tables, upserted by the write-behind
// and read once at start. Portable to PostgreSQL: plain types, positional parameters, ON CONFLICT.

import type { Database } from 'bun:sqlite'
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
  save(rows: ReadonlyArray<WindowRow>): void
  loadAll(): WindowRow[]
  /** Deletes buckets that have left their window by `nowMs`; run now and then, not every flush. */
  prune(nowMs: number): void
}

export function createWindowsRepo(db: Database): WindowsRepo {
  const upsert = db.prepare(
    `INSERT INTO limit_windows (scope, kind, bucket_ms, requests, tokens) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (kind, bucket_ms, scope)
     DO UPDATE SET requests = excluded.requests, tokens = excluded.tokens`,
  )
  const remove = db.prepare(
    'DELETE FROM limit_windows WHERE kind = ? AND bucket_ms = ? AND scope = ?',
  )
  const all = db.prepare<
    { scope: string; kind: string; bucket_ms: number; requests: number; tokens: number },
    []
  >('SELECT scope, kind, bucket_ms, requests, tokens FROM limit_windows')
  const expire = db.prepare(
    `DELETE FROM limit_windows WHERE (kind = 'minute' AND bucket_ms <= ?)
       OR (kind = 'hour' AND bucket_ms <= ?) OR (kind = 'day' AND bucket_ms <= ?)`,
  )
  return {
    save(rows) {
      for (const r of rows) {
        if (r.requests === 0 && r.tokens === 0) remove.run(r.kind, r.bucketMs, r.scope)
        else upsert.run(r.scope, r.kind, r.bucketMs, r.requests, r.tokens)
      }
    },
    loadAll() {
      return all.all().map((r) => ({
        scope: r.scope,
        kind: r.kind as WindowKind,
        bucketMs: r.bucket_ms,
        requests: r.requests,
        tokens: r.tokens,
      }))
    },
    prune(nowMs) {
      // A bucket starting at b has left its window once now >= b + slots × bucketMs.
      expire.run(
        nowMs - MINUTE.slots * MINUTE.bucketMs,
        nowMs - HOUR.slots * HOUR.bucketMs,
        nowMs - DAY_KEEP_MS,
      )
    },
  }
}

export type MonthSpendRepo = {
  /** Upserts rows. Run inside a transaction. */
  save(rows: ReadonlyArray<MonthRow>): void
  /** Rows of months starting at or after `sinceMs` (pass the current month's start at boot). */
  loadSince(sinceMs: number): MonthRow[]
}

export function createMonthSpendRepo(db: Database): MonthSpendRepo {
  const upsert = db.prepare(
    `INSERT INTO month_spend (account_id, month_ms, spend_nano) VALUES (?, ?, ?)
     ON CONFLICT (account_id, month_ms) DO UPDATE SET spend_nano = excluded.spend_nano`,
  )
  const since = db.prepare<{ account_id: number; month_ms: number; spend_nano: number }, [number]>(
    'SELECT account_id, month_ms, spend_nano FROM month_spend WHERE month_ms >= ?',
  )
  return {
    save(rows) {
      for (const r of rows) upsert.run(r.accountId, r.monthMs, r.spendNano)
    },
    loadSince(sinceMs) {
      return since.all(sinceMs).map((r) => ({
        accountId: r.account_id,
        monthMs: r.month_ms,
        spendNano: r.spend_nano,
      }))
    },
  }
}
