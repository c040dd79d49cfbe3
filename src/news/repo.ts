// SQL of news items. `target` is null for system news, `id:N` for one account, `dna:.1.42.` for
// a DNA group (that account and its descendants).
import type { Sql } from '../db/sql'

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

export function createNewsRepo(sql: Sql) {
  return {
    async insert(
      target: string | null,
      title: string,
      content: string,
      by: number,
      atMs: number,
      expiresAtMs: number,
    ): Promise<NewsRow> {
      const row = await sql.get<NewsRow>(
        `INSERT INTO news (target, title, content, created_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
        [target, title, content, by, atMs, expiresAtMs],
      )
      return row!
    },
    /** Unexpired system news, newest first. */
    system(nowMs: number): Promise<NewsRow[]> {
      return sql.all<NewsRow>(
        `SELECT * FROM news WHERE target IS NULL AND expires_at > ?
         ORDER BY created_at DESC, id DESC LIMIT 200`,
        [nowMs],
      )
    },
    /** Unexpired news aimed at any of `targets`, newest first. */
    targeted(targets: string[], nowMs: number): Promise<NewsRow[]> {
      if (targets.length === 0) return Promise.resolve([])
      const marks = targets.map(() => '?').join(', ')
      return sql.all<NewsRow>(
        `SELECT * FROM news WHERE target IN (${marks}) AND expires_at > ?
         ORDER BY created_at DESC, id DESC LIMIT 200`,
        [...targets, nowMs],
      )
    },
    /** Deletes system news (one item when `id` is given); returns how many. */
    removeSystem(id: number | null): Promise<number> {
      return id === null
        ? sql.run('DELETE FROM news WHERE target IS NULL')
        : sql.run('DELETE FROM news WHERE target IS NULL AND id = ?', [id])
    },
    removeTargeted(target: string, id: number | null): Promise<number> {
      return id === null
        ? sql.run('DELETE FROM news WHERE target = ?', [target])
        : sql.run('DELETE FROM news WHERE target = ? AND id = ?', [target, id])
    },
  }
}
