// The failure policy's per-node limiter: while Redis is unreachable a node enforces each limit
// and Concurrency cap divided by the node count, never the full one.
import { describe, expect, test } from 'bun:test'
import {
  createFallbackLimits,
  perNodeCap,
  perNodeLimits,
  type FallbackReservation,
} from '../../src/cluster/fallback'
import type { SharedLimits, SharedReservation } from '../../src/cluster/limits'
import type { LimitStore } from '../../src/cluster/store'
import { createLimitWindows } from '../../src/limits/windows'
import { createFakeClock } from '../../src/shared/clock'

const fallback = (nodes: number) => {
  const clock = createFakeClock()
  const windows = createLimitWindows({ clock, timeZone: 'UTC' })
  return { clock, windows, limits: createFallbackLimits({ windows, nodes }) }
}

describe('shares', () => {
  test('each limit is divided by the node count, at least 1, 0 staying unlimited', () => {
    expect(perNodeLimits({ rpm: 50, tpm: 10_000, rpd: 0 }, 3)).toEqual({
      rpm: 16,
      rph: 0,
      rpd: 0,
      tpm: 3_333,
      tph: 0,
      tpd: 0,
    })
    expect(perNodeLimits({ rpm: 2 }, 4).rpm).toBe(1)
    expect(perNodeLimits({ rpm: 50 }, 0).rpm).toBe(50)
    expect(perNodeCap(10, 3)).toBe(3)
    expect(perNodeCap(1, 8)).toBe(1)
    expect(perNodeCap(0, 8)).toBe(0)
  })
})

describe('the per-node limiter', () => {
  test('RPM 50 on 3 nodes admits 16 on this node, then denies naming the window', () => {
    const { limits } = fallback(3)
    const scopes = [{ key: 'a:1', limits: { rpm: 50 }, label: 'this account' }]
    const results = Array.from({ length: 30 }, () => limits.reserve({ scopes, estTokens: 0 }))
    expect(results.filter((r) => r.ok).length).toBe(16)
    const denied = results.find((r) => !r.ok)
    if (!denied || denied.ok || denied.code !== 'rate_limit_exceeded') throw new Error('no denial')
    expect(denied.window).toBe('rpm')
    expect(denied.scope).toBe('a:1')
  })

  test('a Concurrency cap of 4 on 2 nodes holds 2 here; a settled call frees its slot', () => {
    const { limits } = fallback(2)
    const caps = [{ key: 'a:9', cap: 4, label: 'parent account' }]
    const a = limits.reserve({ scopes: [], caps, estTokens: 0 })
    const b = limits.reserve({ scopes: [], caps, estTokens: 0 })
    const c = limits.reserve({ scopes: [], caps, estTokens: 0 })
    if (!a.ok || !b.ok) throw new Error('expected two slots')
    expect(c.ok).toBe(false)
    if (!c.ok) expect(c.message).toContain('÷ 2 nodes')
    expect(limits.inFlight('a:9')).toBe(2)
    limits.settle(a.reservation, 10)
    limits.settle(a.reservation, 10)
    expect(limits.inFlight('a:9')).toBe(1)
    expect(limits.reserve({ scopes: [], caps, estTokens: 0 }).ok).toBe(true)
  })

  test('a window denial takes no slot; tokens settle and release through the local windows', () => {
    const { limits, windows, clock } = fallback(2)
    const scopes = [{ key: 'a:3', limits: { tpm: 1_000 } }]
    const caps = [{ key: 'a:3', cap: 10 }]
    const first = limits.reserve({ scopes, caps, estTokens: 400 })
    if (!first.ok) throw new Error(first.message)
    // 1000 ÷ 2 = 500 here: another 400 does not fit, and takes no slot.
    expect(limits.reserve({ scopes, caps, estTokens: 400 }).ok).toBe(false)
    expect(limits.inFlight('a:3')).toBe(1)
    limits.settle(first.reservation, 50)
    expect(windows.usage('a:3').tpm).toBe(50)
    const second = limits.reserve({ scopes, caps, estTokens: 400 })
    if (!second.ok) throw new Error(second.message)
    limits.release(second.reservation)
    expect(windows.usage('a:3').tpm).toBe(50)
    clock.advance(62_000)
    expect(windows.usage('a:3').tpm).toBe(0)
    expect(limits.inFlight('a:3')).toBe(0)
  })
})

test('the shared and the per-node stores answer to one LimitStore shape', async () => {
  const { limits } = fallback(1)
  const local: LimitStore<FallbackReservation> = limits
  const input = {
    scopes: [{ key: 'a:4', limits: { rpm: 1 } }],
    estTokens: 0,
    callId: 'c1',
    nowMs: 0,
  }
  const r = await local.reserve(input)
  expect(r.ok).toBe(true)
  expect((await local.reserve(input)).ok).toBe(false)
  // Money is never admitted locally: the failure policy keeps it closed.
  const money = { accountId: 4, holdNano: 1, minNano: 0 }
  const closed = await local.reserve({ ...input, scopes: [], money })
  expect(!closed.ok && closed.code).toBe('store_unavailable')
  // A shared store fits the same slot (checked by the compiler).
  const shared: (s: SharedLimits) => LimitStore<SharedReservation> = (s) => s
  expect(typeof shared).toBe('function')
})
