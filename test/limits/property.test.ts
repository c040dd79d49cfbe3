// Property: random reserve/settle/release at random times never drive a count negative, keep the
// hour counts equal to a simple model, and never admit more than rpm inside any 60 s interval.

import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { createFakeClock } from '../../src/shared/clock'
import { createLimitWindows, type Reservation } from '../../src/limits/windows'

type Op =
  | { op: 'reserve'; est: number }
  | { op: 'settle'; pick: number; actual: number }
  | { op: 'release'; pick: number }
  | { op: 'wait'; ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('reserve' as const), est: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({
    op: fc.constant('settle' as const),
    pick: fc.nat(),
    actual: fc.integer({ min: 0, max: 3000 }),
  }),
  fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({
    op: fc.constant('wait' as const),
    // Small steps and steps near a minute, so calls land on both sides of bucket edges.
    ms: fc.oneof(
      fc.integer({ min: 0, max: 1500 }),
      fc.integer({ min: 0, max: 20_000 }),
      fc.integer({ min: 58_500, max: 60_001 }),
    ),
  }),
)

type Call = { atMs: number; releasedAtMs: number; tokens: number; r: Reservation }

test('counts stay non-negative and exact, and rpm is never exceeded in any 60 s', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1000, max: 10_000 }),
      fc.integer({ min: 0, max: 999 }),
      // At most 55 waits of ≤ 60 s: under an hour, so nothing leaves the hour window.
      fc.array(opArb, { maxLength: 55 }),
      (rpm, tpm, startOffset, ops) => {
        const clock = createFakeClock(Date.UTC(2026, 0, 15, 12, 0, 0) + startOffset)
        const w = createLimitWindows({ clock, timeZone: 'UTC' })
        const scopes = [
          { key: 'a:42', limits: { rpm, tpm, rph: 1e9, tph: 1e12 } },
          { key: 'a:7', limits: { rpm: rpm + 1, tpd: 1e12 } },
        ]
        const calls: Call[] = []
        for (const o of ops) {
          const now = clock.now()
          if (o.op === 'wait') clock.advance(o.ms)
          else if (o.op === 'reserve') {
            const res = w.reserve(scopes, o.est)
            if (res.ok) {
              calls.push({ atMs: now, releasedAtMs: Infinity, tokens: o.est, r: res.reservation })
              // Admitted calls in (now - 60 s, now] not released before now: at most rpm.
              const live = calls.filter((c) => c.atMs > now - 60_000 && c.releasedAtMs > now)
              expect(live.length).toBeLessThanOrEqual(rpm)
            } else expect(res.retryAfterMs).toBeGreaterThan(0)
          } else if (calls.length > 0) {
            const c = calls[o.pick % calls.length]!
            if (o.op === 'settle') {
              w.settle(c.r, o.actual)
              if (c.releasedAtMs === Infinity) c.tokens = o.actual
            } else {
              w.release(c.r)
              c.releasedAtMs = Math.min(c.releasedAtMs, now)
            }
          }
          const open = calls.filter((c) => c.releasedAtMs === Infinity)
          for (const key of ['a:42', 'a:7']) {
            for (const v of Object.values(w.usage(key))) expect(v).toBeGreaterThanOrEqual(0)
          }
          const u = w.usage('a:42')
          expect(u.rph).toBe(open.length)
          expect(u.tph).toBe(open.reduce((s, c) => s + c.tokens, 0))
          expect(w.usage('a:7').tpd).toBe(u.tph)
          expect(u.rpm).toBeLessThanOrEqual(u.rph)
        }
      },
    ),
    { numRuns: 1000 },
  )
})
