// What the rollup tests on both engines share: a usage_daily row from a few numbers, and every row
// the rollups hold, in key order, to compare.
import type { DailyRow } from '../../src/billing/repo'
import type { Sql } from '../../src/db/sql'

export const daily = (day: string, accountId: number, model: string, n: number, costNano: number): DailyRow => ({
  day,
  accountId,
  model,
  requests: n,
  promptTokens: 3 * n,
  completionTokens: 2 * n,
  cachedTokens: n % 2,
  cacheWriteTokens: n % 3,
  costNano,
})

/** Every row of the rollups (and of usage_daily), in key order. */
export async function rollups(sql: Sql) {
  return {
    daily: await sql.all('SELECT * FROM usage_daily ORDER BY day, account_id, model'),
    tree: await sql.all('SELECT * FROM usage_tree_daily ORDER BY ancestor_id, day, model'),
    cum: await sql.all('SELECT * FROM usage_cum ORDER BY account_id, day'),
    accounts: await sql.all('SELECT * FROM usage_accounts ORDER BY account_id'),
  }
}
