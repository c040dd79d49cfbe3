// GET /dashboard/x-user-requests (§7.7): a page of usage records within retention, newest first,
// of the caller or (with `u`) of one account in its subtree, narrowed by model and status.
// Money in USD of that account's book units (what it was charged); times as ISO strings.
import type { Account } from '../accounts/repo'
import type { Flusher } from '../db/flusher'
import { resolveInSubtree, type AccountLookup } from '../reports/ident'
import type { Clock } from '../shared/clock'
import { AppError } from '../shared/errors'
import { nanoToUsd } from '../shared/money'
import type { DashboardRepo, RequestRow } from './repo'

export const DEFAULT_REQUESTS_PAGE_SIZE = 24
export const MAX_REQUESTS_PAGE_SIZE = 100
const DAY_MS = 86_400_000

export type RequestsQuery = {
  page?: number
  size?: number
  model?: string
  status?: string
  u?: string
}

export type RequestJson = {
  request_id: string
  created_at: string
  endpoint: string
  model: string | null
  mapped_model: string | null
  prompt_tokens: number
  cached_tokens: number
  completion_tokens: number
  total_tokens: number
  cost: number
  status: number
  latency_ms: number | null
  ttfb_ms: number | null
  estimated: boolean
}

export type RequestsPage = {
  object: 'list'
  account: { id: number; name: string }
  data: RequestJson[]
  page: number
  size: number
  has_more: boolean
  retention_days: number
}

const bad = (param: string, why: string) =>
  new AppError('bad_request', `${param}: ${why}`, { param })

/** `429` → [429, 429]; `4xx` → [400, 499]; else null. */
export function statusRange(text: string): [number, number] | null {
  const one = /^([1-5]\d\d)$/.exec(text)
  if (one) return [Number(one[1]), Number(one[1])]
  const cls = /^([1-5])xx$/i.exec(text)
  if (cls) return [Number(cls[1]) * 100, Number(cls[1]) * 100 + 99]
  return null
}

const toJson = (r: RequestRow): RequestJson => ({
  request_id: r.request_id,
  created_at: new Date(r.created_at).toISOString(),
  endpoint: r.endpoint,
  model: r.model,
  mapped_model: r.mapped_model,
  prompt_tokens: r.prompt_tokens,
  cached_tokens: r.cached_tokens,
  completion_tokens: r.completion_tokens,
  total_tokens: r.total_tokens,
  cost: nanoToUsd(r.cost_nano),
  status: r.status,
  latency_ms: r.latency_ms === null ? null : Math.round(r.latency_ms),
  ttfb_ms: r.ttfb_ms === null ? null : Math.round(r.ttfb_ms),
  estimated: r.estimated !== 0,
})

export function createRequestsReader(d: {
  repo: Pick<DashboardRepo, 'requests'>
  lookup: AccountLookup
  flusher: Pick<Flusher, 'flushNow'>
  clock: Clock
  retentionDays: number
}) {
  return {
    async page(caller: Account, q: RequestsQuery): Promise<RequestsPage> {
      const page = q.page ?? 1
      const size = q.size ?? DEFAULT_REQUESTS_PAGE_SIZE
      if (!(Number.isInteger(page) && page >= 1 && page <= 1_000_000))
        throw bad('page', 'must be an integer from 1')
      if (!(Number.isInteger(size) && size >= 1 && size <= MAX_REQUESTS_PAGE_SIZE))
        throw bad('size', `must be an integer from 1 to ${MAX_REQUESTS_PAGE_SIZE}`)
      const status = q.status === undefined || q.status === '' ? null : statusRange(q.status.trim())
      if (q.status && !status)
        throw bad('status', 'must be an HTTP status (429) or a class of them (2xx, 4xx, 5xx)')
      const model = q.model?.trim() || undefined
      const u = q.u?.trim()
      // Awaited: the account lookups are moving behind the async SQL seam.
      const account = u ? await resolveInSubtree(d.lookup, caller, u, 'u') : caller
      // Records still held by the write-behind would be missing from the newest page.
      await d.flusher.flushNow()
      const rows = await d.repo.requests({
        accountId: account.id,
        sinceMs: d.clock.now() - d.retentionDays * DAY_MS,
        model,
        status: status ?? undefined,
        limit: size + 1,
        offset: (page - 1) * size,
      })
      return {
        object: 'list',
        account: { id: account.id, name: account.name },
        data: rows.slice(0, size).map(toJson),
        page,
        size,
        has_more: rows.length > size,
        retention_days: d.retentionDays,
      }
    },
  }
}
