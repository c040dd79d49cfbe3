// SQL of the usage reports: daily series from the rollups (migration 4) or usage_daily, per-account
// totals from running sums, and pruning of raw usage records.
import type { Sql } from '../db/sql'
import { dnaUpperBound } from '../logs/repo'
import { FILTER_COLUMNS } from '../accounts/directory-repo'
import type { Account } from '../accounts/repo'

/** One model's usage on one day (tokens as integers, money in nano-USD). */
export type DayModelRow = {
  day: string
  model: string
  requests: number
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  /** Prompt tokens written to a provider's cache (part of prompt_tokens). */
  cache_write_tokens: number
  cost_nano: number
}

/** One account's totals over a range; name and email are the live ones, else those last seen. */
export type UserTotalRow = {
  id: number
  name: string
  email: string
  requests: number
  cost_nano: number
}

/** Which accounts a report covers; DNA ranges are [lo, hi) as in dnaUpperBound. */
export type Scope =
  | { kind: 'account'; id: number }
  | { kind: 'descendants'; ancestor: Account }
  | { kind: 'subtree'; top: Account }
  | { kind: 'filter'; ancestor: Account; column: FilterColumn; value: number }

export type FilterColumn = (typeof FILTER_COLUMNS)[keyof typeof FILTER_COLUMNS]

const SUMS = 'requests, prompt_tokens, completion_tokens, cached_tokens, cost_nano'
// usage_daily also has cache_write_tokens (v8); the subtree rollup (v4) does not.
const DAILY_SUMS = `${SUMS}, cache_write_tokens`
const sumsOf = (t: string) =>
  DAILY_SUMS.split(', ')
    .map((c) => `CAST(SUM(${t}.${c}) AS BIGINT) AS ${c}`)
    .join(', ')
// Totals over [s, e] (parameters ?1 and ?2) from running sums: through e minus through the day
// before s.
const cumAt = (col: string, cmp: string, at: string) =>
  `COALESCE((SELECT ${col} FROM usage_cum c WHERE c.account_id = t.account_id AND c.day ${cmp} ${at}
    ORDER BY c.day DESC LIMIT 1), 0)`
const TOTALS = `t.account_id AS id, COALESCE(a.name, t.name) AS name,
  COALESCE(a.email, t.email) AS email,
  ${cumAt('requests', '<=', '?2')} - ${cumAt('requests', '<', '?1')} AS requests,
  ${cumAt('cost_nano', '<=', '?2')} - ${cumAt('cost_nano', '<', '?1')} AS cost_nano`

const OWN_SERIES = `SELECT day, model, ${DAILY_SUMS} FROM usage_daily
  WHERE account_id = ? AND day BETWEEN ? AND ?`
const TREE_ROLLUP = `SELECT day, model, ${SUMS}, 0 AS cache_write_tokens
  FROM usage_tree_daily WHERE ancestor_id = ? AND day BETWEEN ? AND ?`
// The subtree rollup has no cache-write column: the strict descendants' cache writes come from
// their own daily rows (usage_accounts keeps deleted accounts and the DNA the rollup used), as
// rows of nothing else that the report adds to the rollup's.
const TREE_CACHE_WRITES = `SELECT u.day AS day, u.model AS model, 0 AS requests,
  0 AS prompt_tokens, 0 AS completion_tokens, 0 AS cached_tokens,
  CAST(SUM(u.cache_write_tokens) AS BIGINT) AS cache_write_tokens, 0 AS cost_nano
  FROM usage_accounts ua JOIN usage_daily u ON u.account_id = ua.account_id
    AND u.day BETWEEN ? AND ?
  WHERE ua.dna > ? AND ua.dna < ? AND u.cache_write_tokens > 0
  GROUP BY u.day, u.model`
const filterSeries = (col: FilterColumn) => `SELECT u.day AS day, u.model AS model, ${sumsOf('u')}
  FROM accounts a JOIN usage_daily u ON u.account_id = a.id AND u.day BETWEEN ? AND ?
  WHERE a.dna > ? AND a.dna < ? AND a.${col} = ? GROUP BY u.day, u.model`
const filterTotals = (col: FilterColumn) => `SELECT ${TOTALS} FROM usage_accounts t
  JOIN accounts a ON a.id = t.account_id
  WHERE t.dna > ?3 AND t.dna < ?4 AND a.${col} = ?5`
const RANGE_TOTALS = `SELECT ${TOTALS} FROM usage_accounts t
  LEFT JOIN accounts a ON a.id = t.account_id
  WHERE t.dna >= ?3 AND t.dna < ?4 AND t.dna <> ?5`
const ONE_TOTAL = `SELECT ${TOTALS} FROM usage_accounts t
  LEFT JOIN accounts a ON a.id = t.account_id WHERE t.account_id = ?3`

export type ReportsRepo = ReturnType<typeof createReportsRepo>

export function createReportsRepo(sql: Sql) {
  const treeSeries = async (a: Account, s: string, e: string): Promise<DayModelRow[]> => {
    const rows = await sql.all<DayModelRow>(TREE_ROLLUP, [a.id, s, e])
    const writes = await sql.all<DayModelRow>(TREE_CACHE_WRITES, [s, e, a.dna, dnaUpperBound(a.dna)])
    return writes.length ? rows.concat(writes) : rows
  }

  const series = async (scope: Scope, s: string, e: string): Promise<DayModelRow[]> => {
    switch (scope.kind) {
      case 'account':
        return sql.all<DayModelRow>(OWN_SERIES, [scope.id, s, e])
      case 'descendants':
        return treeSeries(scope.ancestor, s, e)
      case 'subtree':
        return [
          ...(await sql.all<DayModelRow>(OWN_SERIES, [scope.top.id, s, e])),
          ...(await treeSeries(scope.top, s, e)),
        ]
      case 'filter': {
        const dna = scope.ancestor.dna
        return sql.all<DayModelRow>(filterSeries(scope.column), [s, e, dna, dnaUpperBound(dna), scope.value])
      }
    }
  }

  const totals = async (scope: Scope, s: string, e: string): Promise<UserTotalRow[]> => {
    switch (scope.kind) {
      case 'account':
        return sql.all<UserTotalRow>(ONE_TOTAL, [s, e, scope.id])
      case 'descendants': {
        const dna = scope.ancestor.dna
        return sql.all<UserTotalRow>(RANGE_TOTALS, [s, e, dna, dnaUpperBound(dna), dna])
      }
      case 'subtree': {
        const dna = scope.top.dna
        return sql.all<UserTotalRow>(RANGE_TOTALS, [s, e, dna, dnaUpperBound(dna), ''])
      }
      case 'filter': {
        const dna = scope.ancestor.dna
        return sql.all<UserTotalRow>(filterTotals(scope.column), [s, e, dna, dnaUpperBound(dna), scope.value])
      }
    }
  }

  return {
    /** Day × model rows over [s, e] (a day and model may come in more than one row). */
    series,
    /** Each covered account that ever had usage, with its totals over [s, e] (maybe zero). */
    totals,
    /** Deletes up to `limit` raw usage records older than `beforeMs`; returns how many. */
    pruneRecords(beforeMs: number, limit: number): Promise<number> {
      return sql.run(
        `DELETE FROM usage_records WHERE id IN
          (SELECT id FROM usage_records WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
        [beforeMs, limit],
      )
    },
  }
}
