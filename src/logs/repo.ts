// SQL for the operation log (op_logs): one row per admin write, append-only.
import type { Sql } from '../db/sql'

/** Every operation the log records (SPEC §7.3). */
export const OP_ACTIONS = [
  'add_user', 'update_user', 'recharge', 'deduct', 'delete_user', 'rotate_self', 'rotate_root',
  'add_key', 'update_key', 'delete_key', 'set_config', 'delete_config', 'add_news', 'delete_news',
] as const

export type OpAction = (typeof OP_ACTIONS)[number]

export type OpLogInput = {
  action: OpAction
  operatorId: number
  operatorDna: string
  targetId?: number | null
  targetDna?: string | null
  details: Record<string, unknown>
  status?: 'success' | 'failure'
}

export type OpLogRow = {
  id: number
  action: string
  operator_id: number
  target_id: number | null
  details: Record<string, unknown>
  status: string
  created_at: number
}

export type OpLogQuery = { viewerId: number; viewerDna: string; action?: string; targetId?: number; status?: string; limit: number; offset: number }

export function createOpLogRepo(sql: Sql) {
  // Visible to a viewer: what it did, and what targeted its subtree (DNA range scan on the index).
  const where = `(operator_id = ? OR (target_dna >= ? AND target_dna < ?))
    AND (CAST(? AS TEXT) IS NULL OR action = ?)
    AND (CAST(? AS BIGINT) IS NULL OR target_id = ?)
    AND (CAST(? AS TEXT) IS NULL OR status = ?)`

  const params = (q: OpLogQuery) => {
    const action = q.action ?? null
    const target = q.targetId ?? null
    const status = q.status ?? null
    return [q.viewerId, q.viewerDna, dnaUpperBound(q.viewerDna), action, action, target, target, status, status]
  }

  return {
    async record(e: OpLogInput, atMs: number): Promise<number> {
      const r = await sql.get<{ id: number }>(
        `INSERT INTO op_logs (action, operator_id, operator_dna, target_id, target_dna, details, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [
          e.action, e.operatorId, e.operatorDna, e.targetId ?? null, e.targetDna ?? null,
          JSON.stringify(e.details), e.status ?? 'success', atMs,
        ],
      )
      return r!.id
    },
    async list(q: OpLogQuery): Promise<{ rows: OpLogRow[]; total: number }> {
      const p = params(q)
      const found = await sql.all<Record<string, unknown>>(
        `SELECT * FROM op_logs WHERE ${where} ORDER BY id DESC LIMIT ? OFFSET ?`,
        [...p, q.limit, q.offset],
      )
      const rows = found.map((r) => ({
        id: Number(r.id),
        action: String(r.action),
        operator_id: Number(r.operator_id),
        target_id: r.target_id === null ? null : Number(r.target_id),
        details: JSON.parse(String(r.details)),
        status: String(r.status),
        created_at: Number(r.created_at),
      }))
      const total = (await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM op_logs WHERE ${where}`, p))!.n
      return { rows, total }
    },
  }
}

export type OpLogRepo = ReturnType<typeof createOpLogRepo>

/** DNA strings of a subtree are exactly those in [dna, dnaUpperBound(dna)): '.' + 1 is '/'. */
export function dnaUpperBound(dna: string): string {
  return dna.slice(0, -1) + '/'
}
