// SQL of metering: usage records and the daily aggregates (the cards and ledger rows a usage
// charge touches are the wallet's, wallet/repo.ts). Runs only inside the write-behind flusher's
// transaction, never on the hot path.
import type { Database } from 'bun:sqlite'
import { chunked, insertAll } from '../db/chunked'

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

export function createBillingRepo(db: Database) {
  const insertUsage = chunked(
    db,
    `INSERT OR IGNORE INTO usage_records
    (request_id, created_at, account_id, key_id, endpoint, model, mapped_model, prompt_tokens,
     completion_tokens, cached_tokens, cache_write_tokens, cache_write_1h_tokens, total_tokens,
     list_nano, cost_nano, status, latency_ms, ttfb_ms, estimated, client_ip) VALUES `,
    '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  )
  const upsertDaily = db.prepare(`INSERT INTO usage_daily
    (day, account_id, model, requests, prompt_tokens, completion_tokens, cached_tokens,
     cache_write_tokens, cost_nano)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, account_id, model) DO UPDATE SET
      requests = requests + excluded.requests,
      prompt_tokens = prompt_tokens + excluded.prompt_tokens,
      completion_tokens = completion_tokens + excluded.completion_tokens,
      cached_tokens = cached_tokens + excluded.cached_tokens,
      cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
      cost_nano = cost_nano + excluded.cost_nano`)

  return {
    insertUsage(rows: readonly UsageRecord[]): void {
      insertAll(insertUsage, rows, bindUsage)
    },
    addDaily(d: DailyRow): void {
      upsertDaily.run(
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
    },
  }
}
