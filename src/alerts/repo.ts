// SQL of the alert state (table alert_state): one row per account that is in an alert state,
// upserted by the write-behind and read once at start. The same SQL on both engines.
import type { Sql } from '../db/sql'

/** What xgate remembers per account so a restart never mails the same crossing twice. */
export type AlertRow = {
  accountId: number
  /** Local month (`YYYY-MM` in TZ) whose SoftLimit mail went out; null when none. */
  softLimitMonth: string | null
  /** True while the balance is under EMAIL_BALANCE and its mail went out. */
  lowBalance: boolean
}

export type AlertsRepo = {
  /** Upserts rows; a row holding no state is deleted. Run inside the flusher's transaction. */
  save(rows: ReadonlyArray<AlertRow>): Promise<void>
  loadAll(): Promise<AlertRow[]>
}

export function createAlertsRepo(sql: Sql): AlertsRepo {
  return {
    async save(rows) {
      for (const r of rows) {
        if (r.softLimitMonth === null && !r.lowBalance)
          await sql.run('DELETE FROM alert_state WHERE account_id = ?', [r.accountId])
        else
          await sql.run(
            `INSERT INTO alert_state (account_id, soft_limit_month, low_balance) VALUES (?, ?, ?)
             ON CONFLICT (account_id)
             DO UPDATE SET soft_limit_month = excluded.soft_limit_month, low_balance = excluded.low_balance`,
            [r.accountId, r.softLimitMonth, r.lowBalance ? 1 : 0],
          )
      }
    },
    async loadAll() {
      const rows = await sql.all<{ account_id: number; soft_limit_month: string | null; low_balance: number }>(
        'SELECT account_id, soft_limit_month, low_balance FROM alert_state',
      )
      return rows.map((r) => ({
        accountId: r.account_id,
        softLimitMonth: r.soft_limit_month,
        lowBalance: r.low_balance !== 0,
      }))
    },
  }
}
