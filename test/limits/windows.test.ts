// Limit windows at their edges: sliding minute and hour, calendar day in a zone, subtree and
// per-model scopes.

import { describe, expect, test } from 'bun:test'
import { createFakeClock } from '../../src/shared/clock'
import { createLimitWindows, type Limits, type ScopeLimits } from '../../src/limits/windows'

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0)
const S = 1000
const MIN = 60 * S

function setup(timeZone = 'UTC', start = T0) {
  const clock = createFakeClock(start)
  const w = createLimitWindows({ clock, timeZone })
  return { clock, w }
}

const one = (key: string, limits: Partial<Limits>): ScopeLimits[] => [{ key, limits }]

describe('minute window', () => {
  for (const offset of [0, 1, 500, 999]) {
    test(`a call ${offset} ms into a second counts past 59 s and is gone at 61 s`, () => {
      const { clock, w } = setup('UTC', T0 + offset)
      const scopes = one('a:42', { rpm: 1 })
      expect(w.reserve(scopes, 0).ok).toBe(true)
      clock.set(T0 + offset + 59 * S)
      expect(w.usage('a:42').rpm).toBe(1)
      expect(w.reserve(scopes, 0).ok).toBe(false)
      // Never forgotten before a full minute has passed.
      clock.set(T0 + offset + MIN - 1)
      expect(w.reserve(scopes, 0).ok).toBe(false)
      clock.set(T0 + offset + 61 * S)
      expect(w.usage('a:42').rpm).toBe(0)
      expect(w.reserve(scopes, 0).ok).toBe(true)
    })
  }

  test('calls spread over the minute leave one by one', () => {
    const { clock, w } = setup()
    const scopes = one('a:42', { rpm: 3 })
    for (let i = 0; i < 3; i++) {
      expect(w.reserve(scopes, 0).ok).toBe(true)
      clock.advance(10 * S)
    }
    // Now T0+30 s: the calls of T0, T0+10 s, T0+20 s leave at T0+61 s, +71 s, +81 s.
    clock.set(T0 + 61 * S)
    expect(w.usage('a:42').rpm).toBe(2)
    clock.set(T0 + 71 * S)
    expect(w.usage('a:42').rpm).toBe(1)
    clock.set(T0 + 81 * S)
    expect(w.usage('a:42').rpm).toBe(0)
  })
})

describe('hour window', () => {
  test('a call counts at 59 min and is gone at 61 min', () => {
    const { clock, w } = setup('UTC', T0 + 12_345)
    const scopes = one('a:42', { rph: 1, tph: 1000 })
    expect(w.reserve(scopes, 400).ok).toBe(true)
    clock.set(T0 + 12_345 + 59 * MIN)
    expect(w.usage('a:42')).toMatchObject({ rph: 1, tph: 400, rpm: 0 })
    expect(w.reserve(scopes, 0).ok).toBe(false)
    clock.set(T0 + 12_345 + 60 * MIN - 1)
    expect(w.reserve(scopes, 0).ok).toBe(false)
    clock.set(T0 + 12_345 + 61 * MIN)
    expect(w.usage('a:42')).toMatchObject({ rph: 0, tph: 0 })
    expect(w.reserve(scopes, 0).ok).toBe(true)
  })
})

describe('day window', () => {
  test('Asia/Shanghai: RPD resets at local midnight (16:00 UTC), not at UTC midnight', () => {
    const { clock, w } = setup('Asia/Shanghai', Date.parse('2026-01-15T00:00:00Z'))
    const scopes = one('a:42', { rpd: 2 })
    expect(w.reserve(scopes, 0).ok).toBe(true)
    clock.set(Date.parse('2026-01-15T15:59:00Z'))
    expect(w.reserve(scopes, 0).ok).toBe(true)
    const denied = w.reserve(scopes, 0)
    expect(denied.ok).toBe(false)
    if (!denied.ok) expect(denied.retryAfterMs).toBe(MIN)
    clock.set(Date.parse('2026-01-15T16:00:00Z'))
    expect(w.usage('a:42').rpd).toBe(0)
    expect(w.reserve(scopes, 0).ok).toBe(true)
    expect(w.reserve(scopes, 0).ok).toBe(true)
    // UTC midnight is 08:00 in Shanghai: the same local day, still full.
    clock.set(Date.parse('2026-01-16T00:00:00Z'))
    expect(w.reserve(scopes, 0).ok).toBe(false)
  })

  test('America/New_York: the 23 h spring-forward day resets at 04:00 UTC', () => {
    const { clock, w } = setup('America/New_York', Date.parse('2026-03-08T05:00:00Z'))
    const scopes = one('a:42', { rpd: 1, tpd: 100 })
    expect(w.reserve(scopes, 100).ok).toBe(true)
    clock.set(Date.parse('2026-03-09T03:59:59Z'))
    const denied = w.reserve(scopes, 0)
    expect(denied.ok).toBe(false)
    if (!denied.ok) expect(denied.retryAfterMs).toBe(S)
    clock.set(Date.parse('2026-03-09T04:00:00Z'))
    expect(w.usage('a:42')).toMatchObject({ rpd: 0, tpd: 0 })
    expect(w.reserve(scopes, 0).ok).toBe(true)
  })

  test('America/New_York: the 25 h fall-back day still counts at 04:30 UTC next day', () => {
    const { clock, w } = setup('America/New_York', Date.parse('2026-11-01T04:00:00Z'))
    const scopes = one('a:42', { rpd: 1 })
    expect(w.reserve(scopes, 0).ok).toBe(true)
    clock.set(Date.parse('2026-11-02T04:30:00Z'))
    expect(w.reserve(scopes, 0).ok).toBe(false)
    clock.set(Date.parse('2026-11-02T05:00:00Z'))
    expect(w.reserve(scopes, 0).ok).toBe(true)
  })
})

describe('scopes', () => {
  test('a parent scope with rpm 10 caps two children together at 10', () => {
    const { w } = setup()
    const parent = { key: 'a:7', limits: { rpm: 10 } }
    const childA = [{ key: 'a:42', limits: { rpm: 8 } }, parent]
    const childB = [{ key: 'a:43', limits: { rpm: 8 } }, parent]
    let okA = 0
    let okB = 0
    for (let i = 0; i < 15; i++) {
      if (w.reserve(childA, 0).ok) okA++
      if (w.reserve(childB, 0).ok) okB++
    }
    expect(okA + okB).toBe(10)
    expect(w.usage('a:7').rpm).toBe(10)
    expect(w.usage('a:42').rpm).toBe(okA)
    const denied = w.reserve(childA, 0)
    expect(denied.ok).toBe(false)
    if (!denied.ok) expect(denied.scope).toBe('a:7')
  })

  test('a denied call records nothing in any scope', () => {
    const { w } = setup()
    const scopes = [
      { key: 'a:42', limits: { rpm: 100, tpm: 10_000 } },
      { key: 'a:7', limits: { rpm: 1 } },
    ]
    expect(w.reserve(scopes, 50).ok).toBe(true)
    expect(w.reserve(scopes, 50).ok).toBe(false)
    expect(w.usage('a:42')).toMatchObject({ rpm: 1, tpm: 50 })
  })

  test('per-model limits bite for that model only, the account still counts all', () => {
    const { w } = setup()
    const account = { key: 'a:42', limits: { rpm: 100 } }
    const big = [account, { key: 'a:42:m:gpt-4o', limits: { rpm: 2, tpm: 1000 } }]
    const small = [account, { key: 'a:42:m:gpt-4o-mini', limits: { rpm: 50 } }]
    expect(w.reserve(big, 10).ok).toBe(true)
    expect(w.reserve(big, 10).ok).toBe(true)
    const denied = w.reserve(big, 10)
    expect(denied.ok).toBe(false)
    if (!denied.ok) expect(denied.window).toBe('rpm')
    expect(w.reserve(small, 10).ok).toBe(true)
    expect(w.usage('a:42').rpm).toBe(3)
    expect(w.usage('a:42:m:gpt-4o')).toMatchObject({ rpm: 2, tpm: 20, rph: 0 })
    // Three scopes, each with a minute ring only: no hour or day memory for rpm/tpm limits.
    expect(w.stats()).toEqual({ scopes: 3, bucketSlots: 3 * 61 })
  })

  test('scopes without limits are skipped and hold no memory', () => {
    const { w } = setup()
    const r = w.reserve(
      [
        { key: 'a:42', limits: {} },
        { key: 'a:7', limits: { rpm: 0 } },
      ],
      100,
    )
    expect(r.ok).toBe(true)
    expect(w.stats()).toEqual({ scopes: 0, bucketSlots: 0 })
  })

  test('a key listed twice counts once', () => {
    const { w } = setup()
    const s = { key: 'a:42', limits: { rpm: 5 } }
    expect(w.reserve([s, s], 0).ok).toBe(true)
    expect(w.usage('a:42').rpm).toBe(1)
  })

  test('forget drops a scope; an open reservation no longer touches its successor', () => {
    const { w } = setup()
    const scopes = one('a:42', { rpm: 5, tpm: 1000 })
    const r = w.reserve(scopes, 300)
    w.forget('a:42')
    expect(w.usage('a:42').rpm).toBe(0)
    expect(w.reserve(scopes, 100).ok).toBe(true)
    if (r.ok) w.release(r.reservation)
    expect(w.usage('a:42')).toMatchObject({ rpm: 1, tpm: 100 })
  })
})
