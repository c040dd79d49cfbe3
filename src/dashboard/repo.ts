// SQL of the dashboard: the caller's cards, direct children, daily usage and lifetime totals.
import type { Database } from 'bun:sqlite'
import type { Card } from '../accounts/cards'

export type UsageSums = {
  requests: number
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  cost_nano: number
}

export type DashboardRepo = ReturnType<typeof createDashboardRepo>

export function createDashboardRepo(db: Database) {
  const cards = db.prepare(`SELECT id, amount_nano, balance_nano, granted_at, expires_at, reference
    FROM cards WHERE account_id = ? ORDER BY expires_at, id`)
  const children = db.prepare('SELECT COUNT(*) AS n FROM accounts WHERE parent_id = ?')
  const days =
    db.prepare(`SELECT day, SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens,
    SUM(completion_tokens) AS completion_tokens, SUM(cached_tokens) AS cached_tokens,
    SUM(cost_nano) AS cost_nano
    FROM usage_daily WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY day`)
  const lifetime = db.prepare(`SELECT requests, cost_nano FROM usage_cum WHERE account_id = ?
    ORDER BY day DESC LIMIT 1`)
  return {
    cardsOf(accountId: number): Card[] {
      const rows = cards.all(accountId) as Array<Record<string, number | string | null>>
      return rows.map((r) => ({
        id: Number(r.id),
        amountNano: Number(r.amount_nano),
        balanceNano: Number(r.balance_nano),
        grantedAtMs: Number(r.granted_at),
        expiresAtMs: Number(r.expires_at),
        ...(r.reference === null ? {} : { reference: String(r.reference) }),
      }))
    },
    childCount: (accountId: number) => (children.get(accountId) as { n: number }).n,
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
