// Calendar days and months in one IANA time zone (the `TZ` setting), for RPD/TPD and monthly spend.
// A boundary is the first instant the local date reads the new day, found by search: DST-safe.

/** A local calendar period: key `YYYY-MM-DD` or `YYYY-MM`; [startMs, endMs) in unix ms. */
export type Period = { readonly key: string; readonly startMs: number; readonly endMs: number }

export interface Calendar {
  readonly timeZone: string
  /** The local day holding `ms`. Cached: O(1) while `ms` stays inside the last day asked for. */
  day(ms: number): Period
  /** The local month holding `ms`. Cached like `day`. */
  month(ms: number): Period
}

const HOUR_MS = 3_600_000
// Every UTC offset in the tz database (historic local mean times included) is within ±16 h, so
// local date D starts inside D 00:00 UTC ± 26 h: the search brackets below always hold it.
const SEARCH_MS = 26 * HOUR_MS

/** The zone the process runs in, used when `TZ` is not configured. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone
}

/** Throws a RangeError naming `TZ` when the zone is not a known IANA name. */
export function createCalendar(timeZone: string = systemTimeZone()): Calendar {
  let fmt: Intl.DateTimeFormat
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    })
  } catch {
    throw new RangeError(`TZ: unknown time zone '${timeZone}'`)
  }

  /** Local date at `ms` as the number yyyymmdd, so dates compare as numbers. */
  const dateNum = (ms: number): number => {
    let y = 0
    let m = 0
    let d = 0
    for (const p of fmt.formatToParts(ms)) {
      if (p.type === 'year') y = Number(p.value)
      else if (p.type === 'month') m = Number(p.value)
      else if (p.type === 'day') d = Number(p.value)
    }
    return y * 10_000 + m * 100 + d
  }

  /** First instant whose local date is on or after y-m-d (m and d may overflow, as in Date.UTC). */
  const startOf = (y: number, m: number, d: number): number => {
    const utc = Date.UTC(y, m - 1, d)
    const n = new Date(utc)
    const target = n.getUTCFullYear() * 10_000 + (n.getUTCMonth() + 1) * 100 + n.getUTCDate()
    // Invariant: dateNum(lo) < target <= dateNum(hi). Local dates only move forward in every
    // zone in use today, so the search lands on the one instant the date turns.
    let lo = utc - SEARCH_MS
    let hi = utc + SEARCH_MS
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2)
      if (dateNum(mid) >= target) hi = mid
      else lo = mid
    }
    return hi
  }

  let lastDay: Period = { key: '', startMs: 0, endMs: 0 }
  let lastMonth: Period = { key: '', startMs: 0, endMs: 0 }

  const day = (ms: number): Period => {
    if (ms >= lastDay.startMs && ms < lastDay.endMs) return lastDay
    const n = dateNum(ms)
    const y = Math.floor(n / 10_000)
    const m = Math.floor(n / 100) % 100
    const d = n % 100
    // startOf(d + 1) is the next existing day, so a skipped date (a date-line jump) is handled.
    lastDay = {
      key: `${y}-${pad(m)}-${pad(d)}`,
      startMs: startOf(y, m, d),
      endMs: startOf(y, m, d + 1),
    }
    return lastDay
  }

  const month = (ms: number): Period => {
    if (ms >= lastMonth.startMs && ms < lastMonth.endMs) return lastMonth
    const n = dateNum(ms)
    const y = Math.floor(n / 10_000)
    const m = Math.floor(n / 100) % 100
    lastMonth = { key: `${y}-${pad(m)}`, startMs: startOf(y, m, 1), endMs: startOf(y, m + 1, 1) }
    return lastMonth
  }

  return { timeZone, day, month }
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}
