// SQL of the global settings (/x-config): one row per key set over HTTP, its value as JSON text.
import type { Sql, SqlDb } from '../db/sql'

export type SettingRow = { key: string; value: unknown; updatedAt: number }
export type SettingsRepo = ReturnType<typeof createSettingsRepo>

export function createSettingsRepo(sql: Sql) {
  return {
    /** Every stored row; a value that is not JSON comes back as its text. */
    async all(): Promise<SettingRow[]> {
      const rows = await sql.all<{ key: string; value: string; updated_at: number }>(
        'SELECT key, value, updated_at FROM settings ORDER BY key',
      )
      return rows.map((r) => {
        let value: unknown = r.value
        try {
          value = JSON.parse(r.value)
        } catch {
          // kept as text
        }
        return { key: r.key, value, updatedAt: r.updated_at }
      })
    },
    async put(key: string, value: unknown, atMs: number): Promise<void> {
      await sql.run(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [key, JSON.stringify(value), atMs],
      )
    },
    /** Returns whether a row was there. */
    async remove(key: string): Promise<boolean> {
      return (await sql.run('DELETE FROM settings WHERE key = ?', [key])) > 0
    },
  }
}

/** What the settings start from: the store they write to and the rows stored in it. */
export type StoredSettings = { db: SqlDb; rows: SettingRow[] }

export async function loadStoredSettings(db: SqlDb): Promise<StoredSettings> {
  return { db, rows: await createSettingsRepo(db).all() }
}
