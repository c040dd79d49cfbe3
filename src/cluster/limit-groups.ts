// The windows one scope's limits need at a moment, as Redis bucket keys (two fixed cells per
// sliding window, one per calendar day), and the reserve script's denial turned into the values
// the single-node store and wallet return.
import { formatUsd } from '../alerts/texts'
import type { Calendar } from '../limits/daykey'
import { limitDenial, type LimitDenial } from '../limits/headers'
import { normalize, type WindowName } from '../limits/scope'
import type { ScopeLimits } from '../limits/windows'
import type { ConcurrencyDenial, MoneyDenial, SlotCap } from './limits'

export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000
/** A bucket is kept one span after it stops being current (as the previous cell), then a margin. */
const KEEP_MARGIN_MS = 60_000

export type Kind = 'm' | 'h' | 'd'
export type Group = {
  scope: string
  label?: string
  kind: Kind
  limits: [number, number]
  start: number
  span: number
  cur: string
  prev: string
  /** How long the current bucket is kept from now (relative: Redis's clock need not be ours). */
  ttlMs: number
}

export const NAMES: Record<Kind, [WindowName, WindowName]> = {
  m: ['rpm', 'tpm'],
  h: ['rph', 'tph'],
  d: ['rpd', 'tpd'],
}

/** `{prefix}w:{scope}:{m|h|d}:{bucket start ms}`: one hash {r, t} per bucket. */
export function bucketKey(prefix: string, scope: string, kind: Kind, startMs: number): string {
  return `${prefix}w:${scope}:${kind}:${startMs}`
}

/** The windows a scope's limits need at `now`, as the buckets they read and write. */
export function groupsOf(
  s: ScopeLimits,
  now: number,
  calendar: Calendar,
  prefix: string,
  out: Group[],
): void {
  const l = normalize(s.limits)
  const sliding = (kind: 'm' | 'h', span: number, r: number, t: number) => {
    if (r <= 0 && t <= 0) return
    const start = Math.floor(now / span) * span
    out.push({
      scope: s.key,
      label: s.label,
      kind,
      limits: [r, t],
      start,
      span,
      cur: bucketKey(prefix, s.key, kind, start),
      prev: bucketKey(prefix, s.key, kind, start - span),
      ttlMs: start + 2 * span + KEEP_MARGIN_MS - now,
    })
  }
  sliding('m', MINUTE_MS, l.rpm, l.tpm)
  sliding('h', HOUR_MS, l.rph, l.tph)
  if (l.rpd > 0 || l.tpd > 0) {
    const day = calendar.day(now)
    const cur = bucketKey(prefix, s.key, 'd', day.startMs)
    out.push({
      scope: s.key,
      label: s.label,
      kind: 'd',
      limits: [l.rpd, l.tpd],
      start: day.startMs,
      span: day.endMs - day.startMs,
      cur,
      prev: cur,
      ttlMs: day.endMs + KEEP_MARGIN_MS - now,
    })
  }
}

/** One scope's windows in the current minute: its groups, bucket keys and script arguments. */
export type ScopePart = { minute: number; groups: Group[]; keys: string[]; args: string[] }

/**
 * A scope's buckets, keys and script arguments change once a minute at most (hour and day
 * boundaries fall on minutes): kept per scope object (the limits gate keeps those per plan).
 */
export function scopeParts(calendar: Calendar, prefix: string): (s: ScopeLimits, now: number) => ScopePart {
  const parts = new WeakMap<ScopeLimits, ScopePart>()
  return (s: ScopeLimits, now: number): ScopePart => {
    const minute = Math.floor(now / MINUTE_MS)
    const known = parts.get(s)
    if (known && known.minute === minute) return known
    const groups: Group[] = []
    // Counted from the minute's start, a bucket's TTL is at most a minute longer: harmless.
    groupsOf(s, minute * MINUTE_MS, calendar, prefix, groups)
    const part: ScopePart = { minute, groups, keys: [], args: [] }
    for (const g of groups) {
      part.keys.push(g.cur, g.prev)
      part.args.push(String(g.limits[0]), String(g.limits[1]), String(g.start), String(g.span))
      part.args.push(g.kind === 'd' ? '0' : '1', String(g.ttlMs))
    }
    parts.set(s, part)
    return part
  }
}

/** Turns the script's denial into the same values the in-memory store and gate return. */
export function denialOf(
  reply: (number | string)[],
  groups: readonly Group[],
  caps: readonly SlotCap[],
): LimitDenial | ConcurrencyDenial {
  if (reply[1] === 'c') {
    const c = caps[Number(reply[2]) - 1]!
    return {
      ok: false,
      code: 'concurrency_limit_exceeded',
      message: `${c.cap} calls in flight at once (Concurrency of ${c.label ?? c.key}) reached`,
      retryAfterMs: Number(reply[5]),
      scope: c.key,
    }
  }
  const g = groups[Number(reply[2]) - 1]!
  const field = Number(reply[3]) === 1 ? 0 : 1
  return limitDenial({
    window: NAMES[g.kind][field],
    scope: g.scope,
    label: g.label,
    limit: Number(reply[4]),
    used: Number(reply[5]),
    retryAfterMs: Number(reply[6]),
  })
}

/** The money part of the script said no: the 402 in words, what the call needs and what is free. */
export function moneyDenial(
  m: { holdNano: number; minNano: number },
  freeNano: number,
): MoneyDenial {
  const min = m.minNano > 0 ? ` and keep ${formatUsd(m.minNano)} (CALL_MIN_BALANCE)` : ''
  return {
    ok: false,
    code: 'insufficient_balance',
    message:
      `this call needs up to ${formatUsd(m.holdNano)}${min}; ${formatUsd(Math.max(0, freeNano))} ` +
      `is free (balance less what calls in flight hold, on every node)`,
    availableNano: freeNano,
  }
}
