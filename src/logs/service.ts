// Reading the operation log (§7.3): an account sees the operations it did and those that targeted
// its subtree, newest first, page by page. Plain TypeScript over the op_logs repository.
import { AppError } from '../shared/errors'
import { OP_ACTIONS, type OpAction, type OpLogRepo } from './repo'

export const ACTIONS: readonly OpAction[] = OP_ACTIONS
export const STATUSES = ['success', 'failure'] as const
export const DEFAULT_LOG_PAGE_SIZE = 24
export const MAX_LOG_PAGE_SIZE = 100

export type LogQuery = {
  page?: number
  size?: number
  action?: string
  target_id?: number
  status?: string
}

export type LogEntry = {
  id: number
  action: string
  operator_id: number
  target_id: number | null
  details: Record<string, unknown>
  status: string
  created_at: string
}

export type LogPage = {
  logs: LogEntry[]
  total: number
  page: number
  size: number
  has_more: boolean
}

const bad = (param: string, why: string) =>
  new AppError('bad_request', `${param}: ${why}`, { param })

export function createLogService(oplog: OpLogRepo) {
  return {
    list(viewer: { id: number; dna: string }, q: LogQuery): LogPage {
      const page = q.page ?? 1
      const size = q.size ?? DEFAULT_LOG_PAGE_SIZE
      if (!(Number.isInteger(page) && page >= 1 && page <= 1_000_000))
        throw bad('page', 'must be an integer from 1')
      if (!(Number.isInteger(size) && size >= 1 && size <= MAX_LOG_PAGE_SIZE)) {
        throw bad('size', `must be an integer from 1 to ${MAX_LOG_PAGE_SIZE}`)
      }
      if (q.action !== undefined && !(ACTIONS as readonly string[]).includes(q.action)) {
        throw bad('action', `must be one of ${ACTIONS.join(' ')}`)
      }
      if (q.status !== undefined && !(STATUSES as readonly string[]).includes(q.status)) {
        throw bad('status', `must be one of ${STATUSES.join(' ')}`)
      }
      if (q.target_id !== undefined && !(Number.isSafeInteger(q.target_id) && q.target_id >= 1)) {
        throw bad('target_id', 'must be an account ID')
      }
      const offset = (page - 1) * size
      const { rows, total } = oplog.list({
        viewerId: viewer.id,
        viewerDna: viewer.dna,
        action: q.action,
        targetId: q.target_id,
        status: q.status,
        limit: size,
        offset,
      })
      const logs = rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }))
      return { logs, total, page, size, has_more: offset + logs.length < total }
    },
  }
}
