// Calendar days of the `TZ` setting as `YYYY-MM-DD` keys: today's key, a day's first instant, and
// day arithmetic. Reports, rotation confirm strings and the dashboard agree on days through this.

const formatters = new Map<string, Intl.DateTimeFormat>()
const DAY_MS = 86_400_000
// Every UTC offset is within ±16 h, so local day D starts within D 00:00 UTC ± 26 h.
const SEARCH_MS = 26 * 3_600_000
const KEY_RE = /^(\d{4})-(\d{2})-(\d{2})$/

/** A cached formatter of the date (and with `time`, the 24-hour time) in `timeZone`. */
function formatter(timeZone: string, time = false): Intl.DateTimeFormat {
  const key = time ? `${timeZone} time` : timeZone
  let f = formatters.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      ...(time ? { hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' } : {}),
    })
    formatters.set(key, f)
  }
  return f
}

/** `ms` as `YYYY-MM-DD HH:MM:SS` in `timeZone` (24-hour clock), as the operation log shows it. */
export function localDateTime(ms: number, timeZone: string): string {
  const p: Record<string, string> = {}
  for (const part of formatter(timeZone, true).formatToParts(ms)) p[part.type] = part.value
  return `${p.year!.padStart(4, '0')}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`
}

/** The local date at `ms` in `timeZone`, as `YYYY-MM-DD`. */
export function dayKey(ms: number, timeZone: string): string {
  let y = ''
  let m = ''
  let d = ''
  for (const p of formatter(timeZone).formatToParts(ms)) {
    if (p.type === 'year') y = p.value.padStart(4, '0')
    else if (p.type === 'month') m = p.value
    else if (p.type === 'day') d = p.value
  }
  return `${y}-${m}-${d}`
}

/** `YYYY-MM-DD` of a real calendar date, else null. */
export function parseDayKey(raw: string): { y: number; m: number; d: number } | null {
  const match = KEY_RE.exec(raw)
  if (!match) return null
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const t = new Date(Date.UTC(y, m - 1, d))
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return null
  return { y, m, d }
}

const utcOf = (key: string): number => {
  const p = parseDayKey(key)
  if (!p) throw new RangeError(`not a date: ${key}`)
  return Date.UTC(p.y, p.m - 1, p.d)
}

/** The key `n` days after (or before, for negative `n`) `key`. */
export function addDays(key: string, n: number): string {
  return new Date(utcOf(key) + n * DAY_MS).toISOString().slice(0, 10)
}

/** Days from `a` to `b` (`b` − `a`; 0 when equal). */
export function daysBetween(a: string, b: string): number {
  return Math.round((utcOf(b) - utcOf(a)) / DAY_MS)
}

/** The first day of the month holding `key`. */
export function monthStart(key: string): string {
  return `${key.slice(0, 7)}-01`
}

/** The first instant (unix ms) whose local date in `timeZone` is `key` or later. DST-safe. */
export function dayStartMs(key: string, timeZone: string): number {
  const utc = utcOf(key)
  // Invariant: dayKey(lo) < key <= dayKey(hi); keys compare as strings.
  let lo = utc - SEARCH_MS
  let hi = utc + SEARCH_MS
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (dayKey(mid, timeZone) >= key) hi = mid
    else lo = mid
  }
  return hi
}

/**
 * The first instants of `count` consecutive days from `from`. Each day is tried at the previous
 * start + 24 h and searched for only when a DST change or a zone change moved it.
 */
export function dayStarts(from: string, count: number, timeZone: string): number[] {
  const out: number[] = []
  let key = from
  for (let i = 0; i < count; i++) {
    const guess = i === 0 ? NaN : out[i - 1]! + DAY_MS
    const fits = i > 0 && dayKey(guess, timeZone) === key && dayKey(guess - 1, timeZone) < key
    out.push(fits ? guess : dayStartMs(key, timeZone))
    key = addDays(key, 1)
  }
  return out
}
