// SQL of the global settings (/x-config): one row per key set over HTTP, its value as JSON text.
import type { Database } from 'bun:sqlite'

export type SettingRow = { key: string; value: unknown; updatedAt: number }
export type SettingsRepo = ReturnType<typeof createSettingsRepo>

export function createSettingsRepo(db: Database) {
  const all = db.prepare('SELECT key, value, updated_at FROM settings ORDER BY key')
  const upsert = db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`)
  const remove = db.prepare('DELETE FROM settings WHERE key = ?')
  return {
    /** Every stored row; a value that is not JSON comes back as its text. */
    all(): SettingRow[] {
      return (all.all() as Array<{ key: string; value: string; updated_at: number }>).map((r) => {
        let value: unknown = r.value
        try {
          value = JSON.parse(r.value)
        } catch {
          // kept as text
        }
        return { key: r.key, value, updatedAt: r.updated_at }
      })
    },
    put(key: string, value: unknown, atMs: number): void {
      upsert.run(key, JSON.stringify(value), atMs)
    },
    /** Returns whether a row was there. */
    remove(key: string): boolean {
      return remove.run(key).changes > 0
    },
    /** Runs `fn` in one immediate transaction. */
    transaction<T>(fn: () => T): T {
      return db.transaction(fn).immediate()
    },
  }
}
