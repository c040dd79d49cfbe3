// Memory of the limit store does not grow with traffic: fixed buckets per scope, bounded scopes.

import { expect, test } from 'bun:test'
import { createFakeClock } from '../../src/shared/clock'
import { createLimitWindows } from '../../src/limits/windows'

const ALL = { rpm: 1e9, rph: 1e9, rpd: 1e9, tpm: 1e12, tph: 1e12, tpd: 1e12 }

test('a million calls across 100 scopes keep 123 bucket slots per scope', () => {
  const clock = createFakeClock(Date.UTC(2026, 0, 15, 12, 0, 0))
  // Shanghai midnight (16:00 UTC) falls inside the run, so the day count rolls over too.
  const w = createLimitWindows({ clock, timeZone: 'Asia/Shanghai' })
  const scopes = Array.from({ length: 100 }, (_, i) => [{ key: `a:${i}`, limits: ALL }])
  let admitted = 0
  let maxRows = 0
  for (let i = 0; i < 1_000_000; i++) {
    const r = w.reserve(scopes[i % 100]!, 50)
    if (r.ok) {
      admitted++
      if (i % 7 === 0) w.settle(r.reservation, 80)
    }
    clock.advance(37)
    if (i % 100_000 === 0) maxRows = Math.max(maxRows, w.drain().length)
  }
  expect(admitted).toBe(1_000_000)
  expect(w.stats()).toEqual({ scopes: 100, bucketSlots: 100 * (61 + 61 + 1) })
  // A drain never holds more than every slot of every scope once.
  maxRows = Math.max(maxRows, w.drain().length)
  expect(maxRows).toBeLessThanOrEqual(100 * 123)
  expect(w.drain()).toEqual([])
})

test('scopes are held in a bounded table; an evicted idle scope starts empty', () => {
  const clock = createFakeClock()
  const w = createLimitWindows({ clock, timeZone: 'UTC', maxScopes: 100 })
  const first = [{ key: 'a:first', limits: { rpm: 1 } }]
  expect(w.reserve(first, 0).ok).toBe(true)
  expect(w.reserve(first, 0).ok).toBe(false)
  for (let i = 0; i < 1000; i++) w.reserve([{ key: `a:${i}`, limits: { rpm: 5 } }], 0)
  expect(w.stats().scopes).toBe(100)
  expect(w.stats().bucketSlots).toBe(100 * 61)
  expect(w.usage('a:first').rpm).toBe(0)
  expect(w.reserve(first, 0).ok).toBe(true)
})

test('a scope used on every call stays while idle ones are evicted', () => {
  const clock = createFakeClock()
  const w = createLimitWindows({ clock, timeZone: 'UTC', maxScopes: 50 })
  const parent = { key: 'a:7', limits: { rpm: 1e6 } }
  for (let i = 0; i < 500; i++) w.reserve([{ key: `a:${i + 100}`, limits: { rpm: 5 } }, parent], 0)
  expect(w.usage('a:7').rpm).toBe(500)
})
