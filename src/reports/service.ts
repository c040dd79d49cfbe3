// Usage reports (§6): GET /x-bill over the caller's descendants and GET /dashboard/bill over the
// caller itself, in the seed shape: one row per day of the range, per-model details, totals, and
// each account's share. Money leaves here in USD; percentages have two decimals and sum to 100.
import type { Account } from '../accounts/repo'
import type { Flusher } from '../db/flusher'
import type { Clock } from '../shared/clock'
import { AppError } from '../shared/errors'
import { nanoToUsd } from '../shared/money'
import { dayKey, dayStarts } from './days'
import { findAccount, notFound, parseIdent, type AccountLookup } from './ident'
import { parseRange, type DayRange, type RangeQuery } from './range'
import type { DayModelRow, ReportsRepo, Scope, UserTotalRow } from './repo'

/** `cached` (cache reads) and `cache_write` (cache writes) are parts of `prompt`. */
export type ModelUsage = {
  requests: number
  prompt: number
  completion: number
  cached: number
  cache_write: number
  cost: number
}
export type DayRow = {
  aggregation_timestamp: number
  n_requests: number
  n_context_tokens_total: number
  n_generated_tokens_total: number
  n_cached_tokens_total: number
  n_cache_write_tokens_total: number
  usage_details: Record<string, ModelUsage>
}
export type UsageUser = {
  id: number
  name: string
  email: string
  total_requests: number
  total_cost: number
  usage_analysis: { request_percentage: number; cost_percentage: number }
}
export type Report = {
  object: 'list'
  data: DayRow[]
  total_usage: { requests: number; cost: number }
  usage_users: UsageUser[]
}

export type BillQuery = RangeQuery & { u?: string; user?: string }

/**
 * Shares of `values` in hundredths of a percent, by largest remainder: each share is rounded down,
 * then the hundredths still missing go to the largest remainders (ties to the earlier entry), so
 * they sum to exactly 100.00 whenever the total is positive. A zero total gives all zeros.
 */
export function percentages(values: readonly number[]): number[] {
  const total = values.reduce((a, b) => a + BigInt(b), 0n)
  if (total <= 0n) return values.map(() => 0)
  const scaled = values.map((v) => BigInt(v) * 10_000n)
  const floors = scaled.map((v) => v / total)
  let missing = 10_000n - floors.reduce((a, b) => a + b, 0n)
  const order = scaled
    .map((v, i) => ({ i, rem: v % total }))
    .sort((a, b) => (a.rem === b.rem ? a.i - b.i : a.rem > b.rem ? -1 : 1))
  for (const { i } of order) {
    if (missing <= 0n) break
    floors[i]! += 1n
    missing -= 1n
  }
  return floors.map((f) => Number(f) / 100)
}

/** Assembles the §6 shape from day × model rows and per-account totals over `range`. */
export function buildReport(
  rows: DayModelRow[],
  totals: UserTotalRow[],
  range: DayRange,
  tz: string,
): Report {
  const byDay = new Map<string, Map<string, DayModelRow>>()
  for (const r of rows) {
    let models = byDay.get(r.day)
    if (!models) byDay.set(r.day, (models = new Map()))
    const m = models.get(r.model)
    if (!m) models.set(r.model, { ...r })
    else {
      m.requests += r.requests
      m.prompt_tokens += r.prompt_tokens
      m.completion_tokens += r.completion_tokens
      m.cached_tokens += r.cached_tokens
      m.cache_write_tokens += r.cache_write_tokens
      m.cost_nano += r.cost_nano
    }
  }
  const starts = dayStarts(range.start, range.days, tz)
  let requests = 0
  let costNano = 0
  const data: DayRow[] = starts.map((ms) => {
    const row: DayRow = {
      aggregation_timestamp: Math.floor(ms / 1000),
      n_requests: 0,
      n_context_tokens_total: 0,
      n_generated_tokens_total: 0,
      n_cached_tokens_total: 0,
      n_cache_write_tokens_total: 0,
      usage_details: {},
    }
    const models = byDay.get(dayKey(ms, tz))
    for (const [model, m] of [...(models ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (
        m.requests === 0 &&
        m.cost_nano === 0 &&
        m.prompt_tokens === 0 &&
        m.completion_tokens === 0
      )
        continue
      row.n_requests += m.requests
      row.n_context_tokens_total += m.prompt_tokens
      row.n_generated_tokens_total += m.completion_tokens
      row.n_cached_tokens_total += m.cached_tokens
      row.n_cache_write_tokens_total += m.cache_write_tokens
      row.usage_details[model] = {
        requests: m.requests,
        prompt: m.prompt_tokens,
        completion: m.completion_tokens,
        cached: m.cached_tokens,
        cache_write: m.cache_write_tokens,
        cost: nanoToUsd(m.cost_nano),
      }
      costNano += m.cost_nano
    }
    requests += row.n_requests
    return row
  })
  const users = totals
    .filter((u) => u.requests !== 0 || u.cost_nano !== 0)
    .sort((a, b) => b.cost_nano - a.cost_nano || b.requests - a.requests || a.id - b.id)
  const reqPct = percentages(users.map((u) => u.requests))
  const costPct = percentages(users.map((u) => u.cost_nano))
  return {
    object: 'list',
    data,
    total_usage: { requests, cost: nanoToUsd(costNano) },
    usage_users: users.map((u, i) => ({
      id: u.id,
      name: u.name,
      email: u.email,
      total_requests: u.requests,
      total_cost: nanoToUsd(u.cost_nano),
      usage_analysis: { request_percentage: reqPct[i]!, cost_percentage: costPct[i]! },
    })),
  }
}

export type ReportService = ReturnType<typeof createReportService>

export function createReportService(d: {
  repo: ReportsRepo
  lookup: AccountLookup
  flusher: Flusher
  clock: Clock
  timeZone: string
}) {
  const report = async (scope: Scope, q: RangeQuery): Promise<Report> => {
    const range = parseRange(q, dayKey(d.clock.now(), d.timeZone))
    // Usage still in memory goes to the store first, so a report includes the last calls.
    await d.flusher.flushNow()
    const rows = await d.repo.series(scope, range.start, range.end)
    const totals = await d.repo.totals(scope, range.start, range.end)
    return buildReport(rows, totals, range, d.timeZone)
  }

  /** Which accounts `u` names within the caller's subtree; none = all strict descendants. */
  const scopeOf = async (caller: Account, raw: string | undefined): Promise<Scope> => {
    if (raw === undefined || raw.trim() === '') return { kind: 'descendants', ancestor: caller }
    const id = parseIdent(raw)
    if (id.kind === 'filter')
      return { kind: 'filter', ancestor: caller, column: id.column.name, value: id.column.value }
    const a = await findAccount(d.lookup, id)
    if (!a || !a.dna.startsWith(caller.dna)) throw notFound(raw)
    return id.kind === 'dna' ? { kind: 'subtree', top: a } : { kind: 'account', id: a.id }
  }

  return {
    /** GET /x-bill: `u` = ID, Name or Email (that account), DNA (its subtree) or L/G/R/T/F{n}. */
    async bill(caller: Account, q: BillQuery): Promise<Report> {
      if (q.u !== undefined && q.user !== undefined && q.u !== q.user) {
        throw new AppError('bad_request', `u: given as both u=${q.u} and user=${q.user}`, {
          param: 'u',
        })
      }
      return report(await scopeOf(caller, q.u ?? q.user), q)
    },
    /** GET /dashboard/bill: the caller's own usage. */
    own(caller: Account, q: RangeQuery): Promise<Report> {
      return report({ kind: 'account', id: caller.id }, q)
    },
  }
}
