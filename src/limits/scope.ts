// One limit scope (an account, or an account × model): its minute and hour rings and its
// calendar-day count, and the plain operations the store runs on them.

import type { Period } from './daykey'
import { HOUR, MINUTE, Ring, type Field } from './ring'

/** Requests and tokens per minute, hour and calendar day in TZ; 0 = unlimited. */
export type Limits = {
  rpm: number
  rph: number
  rpd: number
  tpm: number
  tph: number
  tpd: number
}
export type WindowName = keyof Limits
export type WindowKind = 'minute' | 'hour' | 'day'
/** One bucket as persisted: the unit of drain(), restore() and the limit_windows table. */
export type WindowRow = {
  scope: string
  kind: WindowKind
  bucketMs: number
  requests: number
  tokens: number
}

type DayCount = { startMs: number; counts: [number, number]; dirty: boolean }
/** Windows are created when a limit first needs them and kept until the scope is evicted. */
export type Scope = {
  key: string
  limits: Limits
  /** The caller's object `limits` was normalized from, to skip that work when it comes again. */
  source?: Partial<Limits>
  minute?: Ring
  hour?: Ring
  day?: DayCount
  /** Used since the scope table's eviction pass last went by (CLOCK). */
  used?: boolean
}
/** Where one reservation was written in one scope: bucket indices (NaN: none) and day start. */
export type Hold = { scope: Scope; minute: number; hour: number; dayMs: number }

export const WINDOWS: ReadonlyArray<{ name: WindowName; kind: WindowKind; field: Field }> = [
  { name: 'rpm', kind: 'minute', field: 0 },
  { name: 'tpm', kind: 'minute', field: 1 },
  { name: 'rph', kind: 'hour', field: 0 },
  { name: 'tph', kind: 'hour', field: 1 },
  { name: 'rpd', kind: 'day', field: 0 },
  { name: 'tpd', kind: 'day', field: 1 },
]

/** Creates the windows the limits need, moves them to now and rolls the day over. */
export function prepare(scope: Scope, now: number, day: Period): void {
  const l = scope.limits
  if (l.rpm > 0 || l.tpm > 0) scope.minute ??= new Ring(MINUTE, now)
  if (l.rph > 0 || l.tph > 0) scope.hour ??= new Ring(HOUR, now)
  if (l.rpd > 0 || l.tpd > 0) scope.day ??= { startMs: day.startMs, counts: [0, 0], dirty: false }
  scope.minute?.advance(now)
  scope.hour?.advance(now)
  // Only forward: a clock stepping back across midnight keeps counting in the newer day.
  if (scope.day && scope.day.startMs < day.startMs) {
    scope.day = { startMs: day.startMs, counts: [0, 0], dirty: false }
  }
}

/** The count of one window; call after prepare(). */
export function used(scope: Scope, kind: WindowKind, field: Field): number {
  if (kind === 'day') return scope.day ? scope.day.counts[field] : 0
  return scope[kind]?.totals[field] ?? 0
}

/** Milliseconds until `excess` units of the window have left it; a day frees all at midnight. */
export function msUntilFreed(
  scope: Scope,
  kind: WindowKind,
  field: Field,
  excess: number,
  now: number,
  day: Period,
): number {
  if (kind === 'day') return Math.max(1, day.endMs - now)
  return scope[kind]?.msUntilFreed(field, excess, now) ?? 0
}

/** Where a write at `now` lands in this scope; call after prepare(). */
export function holdAt(scope: Scope, now: number): Hold {
  return {
    scope,
    minute: scope.minute ? scope.minute.advance(now) : NaN,
    hour: scope.hour ? scope.hour.advance(now) : NaN,
    dayMs: scope.day ? scope.day.startMs : NaN,
  }
}

/** Adds to the buckets of a hold that are still live; returns whether anything was written. */
export function write(h: Hold, requests: number, tokens: number, now: number): boolean {
  const { scope } = h
  let wrote = false
  if (scope.minute && !Number.isNaN(h.minute)) {
    scope.minute.advance(now)
    wrote = scope.minute.add(h.minute, requests, tokens)
  }
  if (scope.hour && !Number.isNaN(h.hour)) {
    scope.hour.advance(now)
    wrote = scope.hour.add(h.hour, requests, tokens) || wrote
  }
  const d = scope.day
  if (d && d.startMs === h.dayMs) {
    d.counts[0] = Math.max(0, d.counts[0] + requests)
    d.counts[1] = Math.max(0, d.counts[1] + tokens)
    d.dirty = wrote = true
  }
  return wrote
}

/** Appends the scope's buckets written since its last drain to `rows`; clears the marks. */
export function drainScope(scope: Scope, rows: WindowRow[]): void {
  for (const kind of ['minute', 'hour'] as const) {
    const ring = scope[kind]
    if (ring) for (const b of ring.drain()) rows.push({ scope: scope.key, kind, ...b })
  }
  const d = scope.day
  if (d && d.dirty) {
    d.dirty = false
    const [requests, tokens] = d.counts
    rows.push({ scope: scope.key, kind: 'day', bucketMs: d.startMs, requests, tokens })
  }
}

/** Whether a persisted row still counts at `nowMs` (today's day row, or a bucket in its window). */
export function isLive(row: WindowRow, nowMs: number, day: Period): boolean {
  if (row.kind === 'day') return row.bucketMs === day.startMs
  const spec = row.kind === 'minute' ? MINUTE : row.kind === 'hour' ? HOUR : undefined
  if (!spec) return false
  return Math.floor(row.bucketMs / spec.bucketMs) > Math.floor(nowMs / spec.bucketMs) - spec.slots
}

/** Adds one persisted row back; call only for rows isLive() accepts. */
export function restoreRow(scope: Scope, row: WindowRow, nowMs: number, day: Period): void {
  const requests = wholeCount(row.requests)
  const tokens = wholeCount(row.tokens)
  if (row.kind === 'day') {
    scope.day ??= { startMs: day.startMs, counts: [0, 0], dirty: false }
    scope.day.counts[0] += requests
    scope.day.counts[1] += tokens
  } else if (row.kind === 'minute' || row.kind === 'hour') {
    const ring = (scope[row.kind] ??= new Ring(row.kind === 'minute' ? MINUTE : HOUR, nowMs))
    const newest = ring.advance(nowMs)
    // A row from the future (the clock stepped back) counts in the newest bucket.
    const b = Math.min(Math.floor(row.bucketMs / ring.spec.bucketMs), newest)
    ring.add(b, requests, tokens, true)
  }
}

/** Missing, negative or non-finite limits mean unlimited (0); fractions round down. */
export function normalize(l: Partial<Limits>): Limits {
  const n = (v: number | undefined) =>
    v !== undefined && v > 0 && v < Infinity ? Math.floor(v) : 0
  return {
    rpm: n(l.rpm),
    rph: n(l.rph),
    rpd: n(l.rpd),
    tpm: n(l.tpm),
    tph: n(l.tph),
    tpd: n(l.tpd),
  }
}

export function isUnlimited(l: Limits): boolean {
  return l.rpm + l.rph + l.rpd + l.tpm + l.tph + l.tpd === 0
}

/** Counts are non-negative integers; anything else is clamped (NaN and negatives to 0). */
export function wholeCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0
}
