// SQL of metering: the cards a usage charge draws from, its ledger row, usage records and the
// daily aggregates. Runs only inside the write-behind flusher's transaction, never on the hot path.
import type { Database } from 'bun:sqlite'
import type { Card, CardChange } from '../accounts/cards'

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

/**
 * Rows per multi-row INSERT: a flush writes a batch of thousands, and one statement step per 64
 * rows costs far less than one per row. The remainder goes 8 and then 1 at a time.
 */
const CHUNKS = [64, 8, 1] as const

/** Prepared `INSERT … VALUES (row), (row), …` for each chunk size. */
function chunked(db: Database, head: string, row: string) {
  return CHUNKS.map((n) => ({ n, stmt: db.prepare(head + Array(n).fill(row).join(', ')) }))
}

/** Runs the chunked insert over all rows; `bind` appends one row's values to `args`. */
function insertAll<T>(
  stmts: ReturnType<typeof chunked>,
  rows: readonly T[],
  bind: (args: unknown[], row: T) => void,
): void {
  let i = 0
  const args: unknown[] = []
  for (const { n, stmt } of stmts) {
    for (; i + n <= rows.length; i += n) {
      args.length = 0
      for (let j = i; j < i + n; j++) bind(args, rows[j]!)
      // One array, not a spread: 64 rows are over a thousand arguments.
      stmt.run(args as never)
    }
  }
}

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

/** One usage ledger row: the charge of one call. */
export type LedgerCharge = { costNano: number; requestId: string; atMs: number }

export function createBillingRepo(db: Database) {
  const cards = db.prepare(
    'SELECT id, amount_nano, balance_nano, granted_at, expires_at, reference FROM cards WHERE account_id = ? ORDER BY id',
  )
  const exists = db.prepare('SELECT 1 AS ok FROM accounts WHERE id = ?')
  const insertCard = db.prepare(
    'INSERT INTO cards (account_id, amount_nano, balance_nano, granted_at, expires_at, reference) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const updateCard = db.prepare(
    'UPDATE cards SET amount_nano = ?, balance_nano = ?, granted_at = ?, expires_at = ?, reference = ? WHERE id = ? AND account_id = ?',
  )
  const deleteCard = db.prepare('DELETE FROM cards WHERE id = ? AND account_id = ?')
  const insertLedger = db.prepare(
    "INSERT INTO ledger (account_id, delta_nano, reason, ref, created_at) VALUES (?, ?, 'usage', ?, ?)",
  )
  const insertUsage = chunked(
    db,
    `INSERT OR IGNORE INTO usage_records
    (request_id, created_at, account_id, key_id, endpoint, model, mapped_model, prompt_tokens,
     completion_tokens, cached_tokens, cache_write_tokens, cache_write_1h_tokens, total_tokens,
     list_nano, cost_nano, status, latency_ms, ttfb_ms, estimated, client_ip) VALUES `,
    '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  )
  const insertLedgerMany = chunked(
    db,
    'INSERT INTO ledger (account_id, delta_nano, reason, ref, created_at) VALUES ',
    "(?, ?, 'usage', ?, ?)",
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
    accountExists: (accountId: number) => exists.get(accountId) !== null,
    cardsOf(accountId: number): Card[] {
      return (cards.all(accountId) as Array<Record<string, unknown>>).map((r) => {
        const card: Card = {
          id: Number(r.id),
          amountNano: Number(r.amount_nano),
          balanceNano: Number(r.balance_nano),
          grantedAtMs: Number(r.granted_at),
          expiresAtMs: Number(r.expires_at),
        }
        if (r.reference !== null) card.reference = String(r.reference)
        return card
      })
    },
    applyCardChanges(accountId: number, changes: CardChange[]): void {
      for (const { before, after } of changes) {
        if (after && !before) {
          insertCard.run(
            accountId,
            after.amountNano,
            after.balanceNano,
            after.grantedAtMs,
            after.expiresAtMs,
            after.reference ?? null,
          )
        } else if (after && before) {
          updateCard.run(
            after.amountNano,
            after.balanceNano,
            after.grantedAtMs,
            after.expiresAtMs,
            after.reference ?? null,
            before.id!,
            accountId,
          )
        } else if (before) deleteCard.run(before.id!, accountId)
      }
    },
    addUsageLedger(accountId: number, deltaNano: number, requestId: string, atMs: number): void {
      insertLedger.run(accountId, deltaNano, requestId, atMs)
    },
    /** One ledger row per charge (delta = −cost), in order. */
    addUsageLedgers(accountId: number, charges: readonly LedgerCharge[]): void {
      insertAll(insertLedgerMany, charges, (a, c) => {
        a.push(accountId, -c.costNano, c.requestId, c.atMs)
      })
    },
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
