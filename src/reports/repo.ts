// SQL of the usage reports: daily series from the rollups (migration 4) or usage_daily, per-account
// totals from running sums, and pruning of raw usage records.
import type { Database } from 'bun:sqlite'
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
    .map((c) => `SUM(${t}.${c}) AS ${c}`)
    .join(', ')
// Totals over [s, e] from running sums: through e minus through the day before s.
const cumAt = (col: string, cmp: string, at: string) =>
  `COALESCE((SELECT ${col} FROM usage_cum c WHERE c.account_id = t.account_id AND c.day ${cmp} ${at}
    ORDER BY c.day DESC LIMIT 1), 0)`
const TOTALS = `t.account_id AS id, COALESCE(a.name, t.name) AS name,
  COALESCE(a.email, t.email) AS email,
  ${cumAt('requests', '<=', '$e')} - ${cumAt('requests', '<', '$s')} AS requests,
  ${cumAt('cost_nano', '<=', '$e')} - ${cumAt('cost_nano', '<', '$s')} AS cost_nano`

export type ReportsRepo = ReturnType<typeof createReportsRepo>

export function createReportsRepo(db: Database) {
  const ownSeries = db.prepare(`SELECT day, model, ${DAILY_SUMS} FROM usage_daily
    WHERE account_id = $id AND day BETWEEN $s AND $e`)
  const treeRollup = db.prepare(`SELECT day, model, ${SUMS}, 0 AS cache_write_tokens
    FROM usage_tree_daily WHERE ancestor_id = $id AND day BETWEEN $s AND $e`)
  // The subtree rollup has no cache-write column: the strict descendants' cache writes come from
  // their own daily rows (usage_accounts keeps deleted accounts and the DNA the rollup used), as
  // rows of nothing else that the report adds to the rollup's.
  const treeCacheWrites = db.prepare(`SELECT u.day AS day, u.model AS model, 0 AS requests,
    0 AS prompt_tokens, 0 AS completion_tokens, 0 AS cached_tokens,
    SUM(u.cache_write_tokens) AS cache_write_tokens, 0 AS cost_nano
    FROM usage_accounts ua JOIN usage_daily u ON u.account_id = ua.account_id
      AND u.day BETWEEN $s AND $e
    WHERE ua.dna > $lo AND ua.dna < $hi AND u.cache_write_tokens > 0
    GROUP BY u.day, u.model`)
  const treeSeries = (a: Account, s: string, e: string): DayModelRow[] => {
    const rows = treeRollup.all({ id: a.id, s, e }) as DayModelRow[]
    const writes = treeCacheWrites.all({ lo: a.dna, hi: dnaUpperBound(a.dna), s, e })
    return writes.length ? rows.concat(writes as DayModelRow[]) : rows
  }
  const filterSeries = new Map<FilterColumn, ReturnType<Database['prepare']>>()
  const filterTotals = new Map<FilterColumn, ReturnType<Database['prepare']>>()
  for (const col of Object.values(FILTER_COLUMNS)) {
    filterSeries.set(
      col,
      db.prepare(`SELECT u.day AS day, u.model AS model, ${sumsOf('u')}
      FROM accounts a JOIN usage_daily u ON u.account_id = a.id AND u.day BETWEEN $s AND $e
      WHERE a.dna > $lo AND a.dna < $hi AND a.${col} = $v GROUP BY u.day, u.model`),
    )
    filterTotals.set(
      col,
      db.prepare(`SELECT ${TOTALS} FROM usage_accounts t
      JOIN accounts a ON a.id = t.account_id
      WHERE t.dna > $lo AND t.dna < $hi AND a.${col} = $v`),
    )
  }
  const rangeTotals = db.prepare(`SELECT ${TOTALS} FROM usage_accounts t
    LEFT JOIN accounts a ON a.id = t.account_id
    WHERE t.dna >= $lo AND t.dna < $hi AND t.dna <> $skip`)
  const oneTotal = db.prepare(`SELECT ${TOTALS} FROM usage_accounts t
    LEFT JOIN accounts a ON a.id = t.account_id WHERE t.account_id = $id`)
  const pruneBatch = db.prepare(`DELETE FROM usage_records WHERE id IN
    (SELECT id FROM usage_records WHERE created_at < $before ORDER BY created_at LIMIT $limit)`)

  const series = (scope: Scope, s: string, e: string): DayModelRow[] => {
    switch (scope.kind) {
      case 'account':
        return ownSeries.all({ id: scope.id, s, e }) as DayModelRow[]
      case 'descendants':
        return treeSeries(scope.ancestor, s, e)
      case 'subtree':
        return [
          ...(ownSeries.all({ id: scope.top.id, s, e }) as DayModelRow[]),
          ...treeSeries(scope.top, s, e),
        ]
      case 'filter': {
        const p = {
          lo: scope.ancestor.dna,
          hi: dnaUpperBound(scope.ancestor.dna),
          v: scope.value,
          s,
          e,
        }
        return filterSeries.get(scope.column)!.all(p) as DayModelRow[]
      }
    }
  }

  const totals = (scope: Scope, s: string, e: string): UserTotalRow[] => {
    switch (scope.kind) {
      case 'account':
        return oneTotal.all({ id: scope.id, s, e }) as UserTotalRow[]
      case 'descendants': {
        const dna = scope.ancestor.dna
        return rangeTotals.all({
          lo: dna,
          hi: dnaUpperBound(dna),
          skip: dna,
          s,
          e,
        }) as UserTotalRow[]
      }
      case 'subtree': {
        const dna = scope.top.dna
        return rangeTotals.all({
          lo: dna,
          hi: dnaUpperBound(dna),
          skip: '',
          s,
          e,
        }) as UserTotalRow[]
      }
      case 'filter': {
        const p = {
          lo: scope.ancestor.dna,
          hi: dnaUpperBound(scope.ancestor.dna),
          v: scope.value,
          s,
          e,
        }
        return filterTotals.get(scope.column)!.all(p) as UserTotalRow[]
      }
    }
  }

  return {
    /** Day × model rows over [s, e] (a day and model may come in more than one row). */
    series,
    /** Each covered account that ever had usage, with its totals over [s, e] (maybe zero). */
    totals,
    /** Deletes up to `limit` raw usage records older than `beforeMs`; returns how many. */
    pruneRecords(beforeMs: number, limit: number): number {
      return Number(pruneBatch.run({ before: beforeMs, limit }).changes)
    },
  }
}
