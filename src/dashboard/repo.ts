// SQL of the dashboard: the caller's daily usage this month and its lifetime totals.
import type { Database } from 'bun:sqlite'

export type UsageSums = {
  requests: number
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  cost_nano: number
}

export type DashboardRepo = ReturnType<typeof createDashboardRepo>

export function createDashboardRepo(db: Database) {
  const days =
    db.prepare(`SELECT day, SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens,
    SUM(completion_tokens) AS completion_tokens, SUM(cached_tokens) AS cached_tokens,
    SUM(cost_nano) AS cost_nano
    FROM usage_daily WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY day`)
  const lifetime = db.prepare(`SELECT requests, cost_nano FROM usage_cum WHERE account_id = ?
    ORDER BY day DESC LIMIT 1`)
  return {
    /** Usage per day of [from, to] (days with usage only). */
    usageByDay(accountId: number, from: string, to: string): Array<UsageSums & { day: string }> {
      return days.all(accountId, from, to) as Array<UsageSums & { day: string }>
    },
    /** Every request and every nano-USD spent since the account began. */
    lifetime(accountId: number): { requests: number; cost_nano: number } {
      return (
        (lifetime.get(accountId) as { requests: number; cost_nano: number } | null) ?? {
          requests: 0,
          cost_nano: 0,
        }
      )
    },
  }
}
