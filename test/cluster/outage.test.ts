// A dead Redis under the shared stores: limits, money and the bus fail fast with
// RedisUnavailableError (the caller's failure policy decides: money closed, limits ÷ NODES), and
// after a restart the money counter is a miss, so it is seeded from the database again.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createBus } from '../../src/cluster/bus'
import { createSharedHolds } from '../../src/cluster/holds'
import { createSharedLimits } from '../../src/cluster/limits'
import { openRedis, RedisUnavailableError, type Redis } from '../../src/cluster/redis'
import { createCalendar } from '../../src/limits/daykey'
import { startRedis, type RedisServer } from '../helpers/redis'

const TIMEOUT_MS = 150
let srv: RedisServer
let redis: Redis

beforeAll(async () => {
  srv = await startRedis()
  redis = await openRedis({ url: srv.url, commandTimeoutMs: TIMEOUT_MS, prefix: 'ot:' })
})
afterAll(async () => {
  redis.close()
  await srv.stop()
})

async function timed<T>(p: Promise<T>): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now()
  const err = await p.then(
    () => null,
    (e) => e,
  )
  return { err, ms: performance.now() - t0 }
}

test('with Redis dead or stuck, every shared store fails within the command timeout', async () => {
  const limits = createSharedLimits({ redis, calendar: createCalendar('UTC') })
  const holds = createSharedHolds({ redis })
  const bus = await createBus({ redis, nodeId: 'n1', retryMs: 50 })
  const scopes = [{ key: 'a:1', limits: { rpm: 10, tpm: 1_000 } }]
  const now = Date.UTC(2026, 0, 15, 12, 0, 0)
  await holds.seed(1, 1_000_000_000)
  const r = await limits.reserve({ scopes, estTokens: 5, callId: 'c1', nowMs: now })
  if (!r.ok) throw new Error(r.message)

  for (const outage of ['stuck', 'dead'] as const) {
    if (outage === 'stuck') srv.freeze()
    else await srv.kill()
    const attempts = await Promise.all([
      timed(limits.reserve({ scopes, estTokens: 0, callId: 'c2', nowMs: now })),
      timed(limits.settle(r.reservation, 3)),
      timed(holds.admit(1, 1_000, 0)),
      timed(holds.adjust(1, 5)),
      timed(bus.publish('key', 1)),
    ])
    for (const a of attempts) {
      expect(a.err).toBeInstanceOf(RedisUnavailableError)
      expect(a.ms).toBeLessThan(TIMEOUT_MS + 150)
    }
    const worst = Math.max(...attempts.map((a) => a.ms))
    console.log(
      `${outage} Redis: 5 shared-store calls failed, the slowest after ${worst.toFixed(1)} ms`,
    )
    if (outage === 'stuck') srv.thaw()
  }
  await srv.restart()
  const end = Date.now() + 5_000
  while (!bus.live && Date.now() < end) await Bun.sleep(10)
  expect(bus.live).toBe(true)
  // Redis came back empty: money is a miss (seed it from the database), limits count afresh.
  let admit = await holds.admit(1, 1_000, 0).catch((e) => e)
  while (admit instanceof RedisUnavailableError && Date.now() < end) {
    await Bun.sleep(10)
    admit = await holds.admit(1, 1_000, 0).catch((e) => e)
  }
  expect(admit).toEqual({ kind: 'miss' })
  expect((await limits.usage('a:1', now)).rpm).toBe(0)
  bus.close()
})
