// SQL of the dashboard, on the engine-neutral seam: the caller's daily usage this month, its
// lifetime totals, and a page of one account's raw usage records (within retention), newest first.
import type { Sql } from '../db/sql'

export type UsageSums = {
  requests: number
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  cost_nano: number
}

/** One usage record as the requests page reads it (money in nano-USD, times in unix ms). */
export type RequestRow = {
  request_id: string
  created_at: number
  endpoint: string
  model: string | null
  mapped_model: string | null
  prompt_tokens: number
  cached_tokens: number
  completion_tokens: number
  total_tokens: number
  cost_nano: number
  status: number
  latency_ms: number | null
  ttfb_ms: number | null
  estimated: number
}

/** What a page of records is narrowed by; a status class is [statusLo, statusHi]. */
export type RequestFilter = {
  accountId: number
  sinceMs: number
  model?: string
  status?: readonly [number, number]
  limit: number
  offset: number
}

export type DashboardRepo = ReturnType<typeof createDashboardRepo>

const DAYS = `SELECT day, CAST(SUM(requests) AS BIGINT) AS requests,
  CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens,
  CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens,
  CAST(SUM(cached_tokens) AS BIGINT) AS cached_tokens, CAST(SUM(cost_nano) AS BIGINT) AS cost_nano
  FROM usage_daily WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY day`
const LIFETIME = `SELECT requests, cost_nano FROM usage_cum WHERE account_id = ?
  ORDER BY day DESC LIMIT 1`

const REQUEST_COLUMNS = `request_id, created_at, endpoint, model, mapped_model, prompt_tokens,
  cached_tokens, completion_tokens, total_tokens, cost_nano, status, latency_ms, ttfb_ms, estimated`
const BY_MODEL = ' AND (model = ? OR mapped_model = ?)'
const BY_STATUS = ' AND status BETWEEN ? AND ?'
/**
 * The page's statement text for each combination of filters (four fixed texts, so each is
 * compiled once). usage_records has no account index (schema v6: it slowed every write): the
 * time index is walked newest first and the walk stops once the page is full.
 */
const pageText = (model: boolean, status: boolean) =>
  `SELECT ${REQUEST_COLUMNS} FROM usage_records
  WHERE created_at >= ? AND account_id = ?${model ? BY_MODEL : ''}${status ? BY_STATUS : ''}
  ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`
const PAGES = [
  pageText(false, false),
  pageText(true, false),
  pageText(false, true),
  pageText(true, true),
]

export function createDashboardRepo(sql: Sql) {
  return {
    /** Usage per day of [from, to] (days with usage only). */
    usageByDay(accountId: number, from: string, to: string) {
      return sql.all<UsageSums & { day: string }>(DAYS, [accountId, from, to])
    },
    /** Every request and every nano-USD spent since the account began. */
    async lifetime(accountId: number): Promise<{ requests: number; cost_nano: number }> {
      const row = await sql.get<{ requests: number; cost_nano: number }>(LIFETIME, [accountId])
      return row ?? { requests: 0, cost_nano: 0 }
    },
    /** Records of one account since `sinceMs`, newest first, `limit` from `offset`. */
    requests(f: RequestFilter): Promise<RequestRow[]> {
      const args: unknown[] = [f.sinceMs, f.accountId]
      if (f.model !== undefined) args.push(f.model, f.model)
      if (f.status) args.push(f.status[0], f.status[1])
      args.push(f.limit, f.offset)
      const text = PAGES[(f.model !== undefined ? 1 : 0) + (f.status ? 2 : 0)]!
      return sql.all<RequestRow>(text, args)
    },
  }
}
