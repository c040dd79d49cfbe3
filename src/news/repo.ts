// SQL of news items. `target` is null for system news, `id:N` for one account, `dna:.1.42.` for
// a DNA group (that account and its descendants).
import type { Database } from 'bun:sqlite'

export type NewsRow = {
  id: number
  target: string | null
  title: string
  content: string
  created_by: number
  created_at: number
  expires_at: number
}

export type NewsRepo = ReturnType<typeof createNewsRepo>

export function createNewsRepo(db: Database) {
  const insert =
    db.prepare(`INSERT INTO news (target, title, content, created_by, created_at, expires_at)
    VALUES (?, ?, ?, ?, ?, ?) RETURNING *`)
  const system = db.prepare(`SELECT * FROM news WHERE target IS NULL AND expires_at > ?
    ORDER BY created_at DESC, id DESC LIMIT 200`)
  const targeted = db.prepare(`SELECT * FROM news
    WHERE target IN (SELECT value FROM json_each(?)) AND expires_at > ?
    ORDER BY created_at DESC, id DESC LIMIT 200`)
  const removeSystem = db.prepare(
    'DELETE FROM news WHERE target IS NULL AND ($id IS NULL OR id = $id)',
  )
  const removeTargeted = db.prepare(
    'DELETE FROM news WHERE target = $target AND ($id IS NULL OR id = $id)',
  )
  return {
    insert(
      target: string | null,
      title: string,
      content: string,
      by: number,
      atMs: number,
      expiresAtMs: number,
    ): NewsRow {
      return insert.get(target, title, content, by, atMs, expiresAtMs) as NewsRow
    },
    /** Unexpired system news, newest first. */
    system(nowMs: number): NewsRow[] {
      return system.all(nowMs) as NewsRow[]
    },
    /** Unexpired news aimed at any of `targets`, newest first. */
    targeted(targets: string[], nowMs: number): NewsRow[] {
      return targeted.all(JSON.stringify(targets), nowMs) as NewsRow[]
    },
    /** Deletes system news (one item when `id` is given); returns how many. */
    removeSystem(id: number | null): number {
      return removeSystem.run({ id }).changes
    },
    removeTargeted(target: string, id: number | null): number {
      return removeTargeted.run({ target, id }).changes
    },
    transaction<T>(fn: () => T): T {
      return db.transaction(fn).immediate()
    },
  }
}
