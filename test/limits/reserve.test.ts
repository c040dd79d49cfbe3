// Token reservations (settle, release), the estimate rule, denial values and headers, and the
// exactness of check-and-reserve under concurrent callers.

import { describe, expect, test } from 'bun:test'
import { createFakeClock } from '../../src/shared/clock'
import { denialToError } from '../../src/shared/errors'
import { formatDuration, rateLimitHeaders } from '../../src/limits/headers'
import { createLimitWindows, type Limits, type ScopeLimits } from '../../src/limits/windows'

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0)
const S = 1000

function setup(limits: Partial<Limits>, label?: string) {
  const clock = createFakeClock(T0)
  const w = createLimitWindows({ clock, timeZone: 'UTC' })
  const scopes: ScopeLimits[] = [{ key: 'a:42', limits, label }]
  return { clock, w, scopes }
}

function admit(w: ReturnType<typeof setup>['w'], scopes: ScopeLimits[], est: number) {
  const r = w.reserve(scopes, est)
  if (!r.ok) throw new Error(`expected admission, got ${r.message}`)
  return r.reservation
}

describe('token reservations', () => {
  test('settle lowers and raises the count; release takes request and tokens back', () => {
    const { w, scopes } = setup({ tpm: 1000, rpm: 10 })
    const a = admit(w, scopes, 600)
    expect(w.reserve(scopes, 600).ok).toBe(false)
    w.settle(a, 300)
    expect(w.usage('a:42').tpm).toBe(300)
    const b = admit(w, scopes, 600)
    w.settle(b, 800)
    expect(w.usage('a:42')).toMatchObject({ tpm: 1100, rpm: 2 })
    // Over the limit after settling: even a zero estimate waits.
    expect(w.reserve(scopes, 0).ok).toBe(false)
    w.release(b)
    expect(w.usage('a:42')).toMatchObject({ tpm: 300, rpm: 1 })
    w.release(b)
    expect(w.usage('a:42')).toMatchObject({ tpm: 300, rpm: 1 })
  })

  test('settle in every scope and window the reservation was written to', () => {
    const clock = createFakeClock(T0)
    const w = createLimitWindows({ clock, timeZone: 'UTC' })
    const scopes = [
      { key: 'a:42', limits: { tpm: 10_000, tph: 100_000, tpd: 1_000_000 } },
      { key: 'a:7', limits: { tpd: 1_000_000 } },
    ]
    const r = admit(w, scopes, 500)
    w.settle(r, 120)
    expect(w.usage('a:42')).toMatchObject({ tpm: 120, tph: 120, tpd: 120 })
    expect(w.usage('a:7').tpd).toBe(120)
  })

  test('a bucket that left its window drops the difference; the others take it', () => {
    const { clock, w } = setup({})
    const scopes = [{ key: 'a:42', limits: { tpm: 10_000, tph: 100_000, tpd: 1_000_000 } }]
    const r = admit(w, scopes, 500)
    clock.advance(62 * S)
    w.settle(r, 800)
    expect(w.usage('a:42')).toMatchObject({ tpm: 0, tph: 800, tpd: 800 })
    w.release(r)
    expect(w.usage('a:42')).toMatchObject({ tpm: 0, tph: 0, tpd: 0, rph: 0 })
  })

  test('an estimate larger than the whole limit is admitted only into an empty window', () => {
    const { w, scopes } = setup({ tpm: 1000 })
    const big = admit(w, scopes, 5000)
    expect(w.usage('a:42').tpm).toBe(5000)
    expect(w.reserve(scopes, 1).ok).toBe(false)
    w.settle(big, 200)
    expect(w.reserve(scopes, 700).ok).toBe(true)
    expect(w.reserve(scopes, 5000).ok).toBe(false)
  })

  test('bad token counts are clamped, never recorded as negative', () => {
    const { w, scopes } = setup({ tpm: 1000 })
    const r = admit(w, scopes, -50)
    w.settle(r, Number.NaN)
    expect(w.usage('a:42').tpm).toBe(0)
    w.settle(r, 10.6)
    expect(w.usage('a:42').tpm).toBe(11)
  })
})

describe('denials', () => {
  test('rpm denial: retryAfterMs is when the oldest call leaves; headers name the limit', () => {
    const { clock, w, scopes } = setup({ rpm: 2 }, 'account demo')
    admit(w, scopes, 0)
    clock.advance(10 * S)
    admit(w, scopes, 0)
    clock.advance(10 * S)
    const d = w.reserve(scopes, 0)
    if (d.ok) throw new Error('expected a denial')
    // The call of T0 sits in bucket [T0, T0+1 s), which leaves at T0+61 s; now is T0+20 s.
    expect(d.retryAfterMs).toBe(41 * S)
    expect(d).toMatchObject({ code: 'rate_limit_exceeded', window: 'rpm', scope: 'a:42' })
    expect(d.headers).toEqual({
      'retry-after': '41',
      'retry-after-ms': '41000',
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '41s',
      'x-ratelimit-window': 'rpm',
      'x-ratelimit-scope': 'account demo',
    })
    expect(d.message).toContain('account demo')
    expect(d.message).not.toContain('a:42')
    const err = denialToError(d)
    expect(err.status).toBe(429)
    expect(err.headers['retry-after']).toBe('41')
  })

  test('tpm denial waits until enough tokens have left, not just the first bucket', () => {
    const { clock, w, scopes } = setup({ tpm: 1000 })
    admit(w, scopes, 400)
    clock.advance(5 * S)
    admit(w, scopes, 400)
    clock.advance(5 * S)
    const small = w.reserve(scopes, 400)
    const large = w.reserve(scopes, 700)
    if (small.ok || large.ok) throw new Error('expected denials')
    expect(small.retryAfterMs).toBe(51 * S)
    expect(large.retryAfterMs).toBe(56 * S)
    expect(large.headers['x-ratelimit-limit-tokens']).toBe('1000')
    expect(large.headers['x-ratelimit-remaining-tokens']).toBe('200')
    expect(large.headers['x-ratelimit-window']).toBe('tpm')
  })

  test('with several windows full, the one that frees last is reported', () => {
    const { w, scopes } = setup({ rpm: 1, rpd: 1 })
    admit(w, scopes, 0)
    const d = w.reserve(scopes, 0)
    if (d.ok) throw new Error('expected a denial')
    expect(d.window).toBe('rpd')
    expect(d.retryAfterMs).toBe(12 * 3600 * S)
    expect(d.headers['x-ratelimit-reset-requests']).toBe('12h0m0s')
  })

  test('remaining() reports each limited window and feeds admitted-call headers', () => {
    const { clock, w, scopes } = setup({ rpm: 10, rpd: 100, tpm: 5000 })
    admit(w, scopes, 1200)
    clock.advance(1500)
    const rem = w.remaining('a:42')
    expect(rem.rpm).toEqual({ limit: 10, used: 1, remaining: 9, resetMs: 59_500 })
    expect(rem.tpm).toEqual({ limit: 5000, used: 1200, remaining: 3800, resetMs: 59_500 })
    expect(rem.rph).toBeUndefined()
    expect(rateLimitHeaders(rem)).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '9',
      'x-ratelimit-reset-requests': '59.5s',
      'x-ratelimit-limit-tokens': '5000',
      'x-ratelimit-remaining-tokens': '3800',
      'x-ratelimit-reset-tokens': '59.5s',
    })
  })

  test('durations are written the way OpenAI writes them', () => {
    expect(formatDuration(20)).toBe('20ms')
    expect(formatDuration(1500)).toBe('1.5s')
    expect(formatDuration(360_000)).toBe('6m0s')
    expect(formatDuration(3_723_000)).toBe('1h2m3s')
  })
})

describe('concurrency', () => {
  test('200 concurrent reserves against rpm 50 admit exactly 50', async () => {
    const { w, scopes } = setup({ rpm: 50 })
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i % 3))
        return w.reserve(scopes, 10)
      }),
    )
    expect(results.filter((r) => r.ok).length).toBe(50)
    expect(w.usage('a:42').rpm).toBe(50)
  })
})
