// SQL of metering: usage records and the daily aggregates (the cards and ledger rows a usage
// charge touches are the wallet's, wallet/repo.ts). Runs only inside the write-behind flusher's
// transaction, never on the hot path. Usage rows are inserted by their unique request id and the
// insert says which rows were new, so a retried flush charges nothing twice.
import { insertAll } from '../db/chunked'
import type { Sql } from '../db/sql'

/** One proxied call as stored in usage_records (§6). Money in nano-USD, times in unix ms. */
export type UsageRecord = {
  requestId: string
  createdAt: number
  accountId: number
  keyId: number | null
  endpoint: string
  model: string
  mappedModel: string
  promptTokens: number
  completionTokens: number
  cachedTokens: number
  /** Prompt tokens written to the provider's cache (part of promptTokens); 1-hour share apart. */
  cacheWriteTokens: number
  cacheWrite1hTokens: number
  totalTokens: number
  listNano: number
  costNano: number
  status: number
  latencyMs: number
  ttfbMs: number | null
  estimated: boolean
  clientIp: string
}

/** The usage_daily increment of a batch for one (day in TZ, account, mapped model). */
export type DailyRow = {
  day: string
  accountId: number
  model: string
  requests: number
  promptTokens: number
  completionTokens: number
  cachedTokens: number
  cacheWriteTokens: number
  costNano: number
}

export type BillingRepo = ReturnType<typeof createBillingRepo>

const bindUsage = (a: unknown[], r: UsageRecord) => {
  a.push(
    r.requestId,
    r.createdAt,
    r.accountId,
    r.keyId,
    r.endpoint,
    r.model,
    r.mappedModel,
    r.promptTokens,
    r.completionTokens,
    r.cachedTokens,
    r.cacheWriteTokens,
    r.cacheWrite1hTokens,
    r.totalTokens,
    r.listNano,
    r.costNano,
    r.status,
    r.latencyMs,
    r.ttfbMs,
    r.estimated ? 1 : 0,
    r.clientIp,
  )
}

const USAGE_HEAD = `INSERT INTO usage_records
    (request_id, created_at, account_id, key_id, endpoint, model, mapped_model, prompt_tokens,
     completion_tokens, cached_tokens, cache_write_tokens, cache_write_1h_tokens, total_tokens,
     list_nano, cost_nano, status, latency_ms, ttfb_ms, estimated, client_ip) VALUES `
const USAGE_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
const USAGE_TAIL = ' ON CONFLICT (request_id) DO NOTHING RETURNING request_id'

const DAILY_HEAD = `INSERT INTO usage_daily
    (day, account_id, model, requests, prompt_tokens, completion_tokens, cached_tokens,
     cache_write_tokens, cost_nano) VALUES `
const DAILY_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?)'
const DAILY_TAIL = ` ON CONFLICT (day, account_id, model) DO UPDATE SET
      requests = usage_daily.requests + excluded.requests,
      prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens,
      cached_tokens = usage_daily.cached_tokens + excluded.cached_tokens,
      cache_write_tokens = usage_daily.cache_write_tokens + excluded.cache_write_tokens,
      cost_nano = usage_daily.cost_nano + excluded.cost_nano`

export function createBillingRepo(sql: Sql) {
  return {
    /** Inserts the rows not stored yet; returns the request ids of those it inserted. */
    async insertUsage(rows: readonly UsageRecord[]): Promise<Set<string>> {
      const inserted = new Set<string>()
      await insertAll(sql, USAGE_HEAD, USAGE_ROW, USAGE_TAIL, rows, bindUsage, (r) => {
        inserted.add(String((r as { request_id: string }).request_id))
      })
      return inserted
    },
    /** Adds each row to its (day, account, model) aggregate; keys unique within one call. */
    async addDaily(rows: readonly DailyRow[]): Promise<void> {
      await insertAll(sql, DAILY_HEAD, DAILY_ROW, DAILY_TAIL, rows, (a, d) => {
        a.push(
          d.day,
          d.accountId,
          d.model,
          d.requests,
          d.promptTokens,
          d.completionTokens,
          d.cachedTokens,
          d.cacheWriteTokens,
          d.costNano,
        )
      })
    },
  }
}
