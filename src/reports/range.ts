// The date range of a usage report from its query (`d|date`, `s|start`, `e|end`, `days`): days
// of the TZ calendar, both ends included, at most 366 days; bad input names the parameter.
import { AppError } from '../shared/errors'
import { addDays, daysBetween, monthStart, parseDayKey } from './days'

export const MAX_RANGE_DAYS = 366

export type RangeQuery = {
  d?: string
  date?: string
  s?: string
  start?: string
  e?: string
  end?: string
  days?: string
}

export type DayRange = { start: string; end: string; days: number }

const bad = (param: string, why: string) =>
  new AppError('bad_request', `${param}: ${why}`, { param })

/** A parameter given by its short or long name; both, with different values, is an error. */
function pick(q: RangeQuery, short: keyof RangeQuery, long: keyof RangeQuery): string | undefined {
  const a = q[short]
  const b = q[long]
  if (a !== undefined && b !== undefined && a !== b) {
    throw bad(short, `given as both ${short}=${a} and ${long}=${b}`)
  }
  return a ?? b
}

function day(param: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (!parseDayKey(raw.trim())) throw bad(param, `'${raw}' is not a date; use YYYY-MM-DD`)
  return raw.trim()
}

/**
 * Defaults: nothing → this month up to today; `d` → that day; `s` → s up to today; `e` → the
 * start of e's month up to e; `days` → the last n days up to today, or n days from `s` or up
 * to `e`.
 */
export function parseRange(q: RangeQuery, today: string): DayRange {
  const d = day('d', pick(q, 'd', 'date'))
  let s = day('s', pick(q, 's', 'start'))
  let e = day('e', pick(q, 'e', 'end'))
  const rawDays = q.days
  let n: number | undefined
  if (rawDays !== undefined) {
    n = Number(rawDays)
    if (!/^\d+$/.test(rawDays.trim()) || n < 1 || n > MAX_RANGE_DAYS) {
      throw bad('days', `must be a whole number from 1 to ${MAX_RANGE_DAYS}`)
    }
  }
  if (d !== undefined) {
    if (s !== undefined || e !== undefined || n !== undefined) {
      throw bad('d', 'names one day and cannot be combined with s, e or days')
    }
    s = e = d
  } else if (n !== undefined) {
    if (s !== undefined && e !== undefined)
      throw bad('days', 'cannot be combined with both s and e')
    if (s !== undefined) e = addDays(s, n - 1)
    else {
      e ??= today
      s = addDays(e, -(n - 1))
    }
  } else {
    e ??= today
    s ??= monthStart(e)
  }
  const span = daysBetween(s!, e!) + 1
  if (span < 1) throw bad('s', `${s} is after the end of the range ${e}`)
  if (span > MAX_RANGE_DAYS) {
    throw bad('s', `the range ${s}..${e} spans ${span} days; at most ${MAX_RANGE_DAYS}`)
  }
  return { start: s!, end: e!, days: span }
}
