// SQL for the operation log (op_logs): one row per admin write, append-only.
import type { Database } from 'bun:sqlite'

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

export function createOpLogRepo(db: Database) {
  const insert = db.prepare(
    'INSERT INTO op_logs (action, operator_id, operator_dna, target_id, target_dna, details, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  )
  // Visible to a viewer: what it did, and what targeted its subtree (DNA range scan on the index).
  const where = `(operator_id = $viewer OR (target_dna >= $lo AND target_dna < $hi))
    AND ($action IS NULL OR action = $action)
    AND ($target IS NULL OR target_id = $target)
    AND ($status IS NULL OR status = $status)`
  const list = db.prepare(`SELECT * FROM op_logs WHERE ${where} ORDER BY id DESC LIMIT $limit OFFSET $offset`)
  const count = db.prepare(`SELECT COUNT(*) AS n FROM op_logs WHERE ${where}`)

  const params = (q: OpLogQuery) => ({
    viewer: q.viewerId,
    lo: q.viewerDna,
    hi: dnaUpperBound(q.viewerDna),
    action: q.action ?? null,
    target: q.targetId ?? null,
    status: q.status ?? null,
  })

  return {
    record(e: OpLogInput, atMs: number): number {
      const r = insert.run(
        e.action, e.operatorId, e.operatorDna, e.targetId ?? null, e.targetDna ?? null,
        JSON.stringify(e.details), e.status ?? 'success', atMs,
      )
      return Number(r.lastInsertRowid)
    },
    list(q: OpLogQuery): { rows: OpLogRow[]; total: number } {
      const p = params(q)
      const rows = (list.all({ ...p, limit: q.limit, offset: q.offset }) as Array<Record<string, unknown>>).map((r) => ({
        id: Number(r.id),
        action: String(r.action),
        operator_id: Number(r.operator_id),
        target_id: r.target_id === null ? null : Number(r.target_id),
        details: JSON.parse(String(r.details)),
        status: String(r.status),
        created_at: Number(r.created_at),
      }))
      return { rows, total: (count.get(p) as { n: number }).n }
    },
  }
}

export type OpLogRepo = ReturnType<typeof createOpLogRepo>

/** DNA strings of a subtree are exactly those in [dna, dnaUpperBound(dna)): '.' + 1 is '/'. */
export function dnaUpperBound(dna: string): string {
  return dna.slice(0, -1) + '/'
}
