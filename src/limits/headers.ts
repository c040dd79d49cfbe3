// The x-ratelimit-* headers and the denial value that the limit store hands to the proxy pipeline.
// Header names follow OpenAI's, so SDKs and dashboards that read them keep working.

import type { Denial } from '../shared/errors'
import type { WindowName, WindowUse } from './windows'

/** A rate-limit denial, always with retryAfterMs and headers, and the window and scope that bit. */
export type LimitDenial = Denial & {
  code: 'rate_limit_exceeded'
  retryAfterMs: number
  headers: Record<string, string>
  window: WindowName
  scope: string
}

const PERIOD: Record<WindowName, string> = {
  rpm: 'requests per minute',
  rph: 'requests per hour',
  rpd: 'requests per day',
  tpm: 'tokens per minute',
  tph: 'tokens per hour',
  tpd: 'tokens per day',
}

/** `requests` or `tokens`, the suffix of OpenAI's header names. */
function unitOf(window: WindowName): 'requests' | 'tokens' {
  return window.startsWith('r') ? 'requests' : 'tokens'
}

/** OpenAI's duration style: `20ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms))
  if (whole < 1000) return `${whole}ms`
  const h = Math.floor(whole / 3_600_000)
  const m = Math.floor((whole % 3_600_000) / 60_000)
  const s = (whole % 60_000) / 1000
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`
  if (h > 0) return `${h}h${m}m${sec}`
  if (m > 0) return `${m}m${sec}`
  return sec
}

export type DenialFacts = {
  window: WindowName
  scope: string
  /** Shown to the caller instead of the scope key when set (e.g. "parent account"). */
  label?: string
  limit: number
  used: number
  retryAfterMs: number
}

export function limitDenial(f: DenialFacts): LimitDenial {
  const unit = unitOf(f.window)
  const who = f.label ?? f.scope
  const reset = formatDuration(f.retryAfterMs)
  return {
    ok: false,
    code: 'rate_limit_exceeded',
    message:
      `Rate limit reached for ${who}: ${f.window} is ${f.limit} ${PERIOD[f.window]}, ` +
      `${f.used} used. Try again in ${reset}.`,
    retryAfterMs: f.retryAfterMs,
    window: f.window,
    scope: f.scope,
    headers: {
      'retry-after': String(Math.max(1, Math.ceil(f.retryAfterMs / 1000))),
      'retry-after-ms': String(Math.ceil(f.retryAfterMs)),
      [`x-ratelimit-limit-${unit}`]: String(f.limit),
      [`x-ratelimit-remaining-${unit}`]: String(Math.max(0, f.limit - f.used)),
      [`x-ratelimit-reset-${unit}`]: reset,
      'x-ratelimit-window': f.window,
      'x-ratelimit-scope': who,
    },
  }
}

/**
 * Headers for an admitted call: for requests and for tokens, the window with the least remaining
 * (ties go to the shorter window). Windows without a limit add nothing.
 */
export function rateLimitHeaders(
  use: Partial<Record<WindowName, WindowUse>>,
): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const group of [
    ['rpm', 'rph', 'rpd'],
    ['tpm', 'tph', 'tpd'],
  ] as const) {
    let best: WindowUse | undefined
    for (const name of group) {
      const u = use[name]
      if (u && (!best || u.remaining < best.remaining)) best = u
    }
    if (!best) continue
    const unit = unitOf(group[0])
    headers[`x-ratelimit-limit-${unit}`] = String(best.limit)
    headers[`x-ratelimit-remaining-${unit}`] = String(best.remaining)
    headers[`x-ratelimit-reset-${unit}`] = formatDuration(best.resetMs)
  }
  return headers
}
