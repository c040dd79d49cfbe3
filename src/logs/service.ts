// Reading the operation log (§7.3): an account sees the operations it did and those that targeted
// its subtree, newest first, page by page. Each row reads as a sentence (`details`), with its
// structured details in `data` and its time as `YYYY-MM-DD HH:MM:SS` in TZ.
import { AppError } from '../shared/errors'
import { OP_ACTIONS, type OpAction, type OpLogRepo } from './repo'
import { sentenceOf } from './sentences'
import { localDateTime } from '../reports/days'

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
  /** What happened, in words. */
  details: string
  /** The same operation's structured details (amounts, fields, names). */
  data: Record<string, unknown>
  status: string
  /** `YYYY-MM-DD HH:MM:SS`, local time in TZ. */
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

export { localDateTime }

export function createLogService(oplog: OpLogRepo, timeZone: string) {
  return {
    async list(viewer: { id: number; dna: string }, q: LogQuery): Promise<LogPage> {
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
      const { rows, total } = await oplog.list({
        viewerId: viewer.id,
        viewerDna: viewer.dna,
        action: q.action,
        targetId: q.target_id,
        status: q.status,
        limit: size,
        offset,
      })
      const logs: LogEntry[] = rows.map((r) => ({
        id: r.id,
        action: r.action,
        operator_id: r.operator_id,
        target_id: r.target_id,
        details: sentenceOf(r.action, r.details),
        data: r.details,
        status: r.status,
        created_at: localDateTime(r.created_at, timeZone),
      }))
      return { logs, total, page, size, has_more: offset + logs.length < total }
    },
  }
}
