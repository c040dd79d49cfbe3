// Figures for the report (printed, not asserted as timings): Redis commands and round trips per
// call, and µs per reservation on loopback, at c=1 and with many calls in flight.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createSharedHolds } from '../../src/cluster/holds'
import { createSharedLimits, type SharedReservation } from '../../src/cluster/limits'
import { openRedis, type Redis } from '../../src/cluster/redis'
import { createCalendar } from '../../src/limits/daykey'
import { startRedis, type RedisServer } from '../helpers/redis'

let srv: RedisServer
let redis: Redis

beforeAll(async () => {
  srv = await startRedis()
  redis = await openRedis({ url: srv.url, commandTimeoutMs: 2_000, prefix: 'ft:' })
})
afterAll(async () => {
  redis.close()
  await srv.stop()
})

const T = Date.UTC(2026, 0, 15, 12, 0, 0)
/** A deep call: the account, its parent and a per-model scope; 7 windows and one slot set. */
const scopes = [
  { key: 'a:30', limits: { rpm: 1e9, tpm: 1e12, rph: 1e9, rpd: 1e9 } },
  { key: 'a:31', limits: { rpm: 1e9, tpd: 1e12 } },
  { key: 'a:30:m:gpt-4o', limits: { rpm: 1e9, tpm: 1e12 } },
]
const caps = [{ key: 'a:31', cap: 1_000_000 }]

async function scriptCalls(): Promise<number> {
  const info = String(await redis.send('INFO', ['commandstats']))
  const n = (c: string) => Number(info.match(new RegExp(`cmdstat_${c}:calls=(\\d+)`))?.[1] ?? 0)
  return n('evalsha') + n('eval')
}

/** Redis's own time per script call (µs), from INFO commandstats. */
async function serverUsPerScript(): Promise<number> {
  const info = String(await redis.send('INFO', ['commandstats']))
  return Number(info.match(/cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/)?.[1] ?? NaN)
}

async function usPer(n: number, f: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await f(i)
  return ((performance.now() - t0) * 1000) / n
}

test('round trips and µs per reservation on loopback', async () => {
  const limits = createSharedLimits({ redis, calendar: createCalendar('UTC') })
  const holds = createSharedHolds({ redis })
  await holds.seed(30, 1e15)
  const N = 2_000
  let seq = 0
  const money = { accountId: 30, holdNano: 50_000_000, minNano: 0 }
  const reserve = (withMoney = false) =>
    limits.reserve({
      scopes,
      caps,
      estTokens: 50,
      callId: `c${++seq}`,
      nowMs: T,
      money: withMoney ? money : undefined,
    })
  const held = (r: Awaited<ReturnType<typeof reserve>>): SharedReservation => {
    if (!r.ok) throw new Error(r.message)
    return r.reservation
  }
  // Warm up: every script loaded (the first run of each goes EVALSHA → NOSCRIPT → EVAL).
  for (let i = 0; i < 200; i++) await limits.settle(held(await reserve(true)), 40, 1_000)

  const ping = await usPer(N, () => redis.send('PING', []))
  await redis.send('CONFIG', ['RESETSTAT'])
  const reserveUs = await usPer(N, async () => held(await reserve()))
  const reserveServerUs = await serverUsPerScript()
  await redis.send('CONFIG', ['RESETSTAT'])
  // What a call does before upstream: money, windows and slot in one script…
  const admitted: SharedReservation[] = []
  const admitUs = await usPer(N, async () => void admitted.push(held(await reserve(true))))
  // …and after it: tokens, slot and money in one more.
  const afterUs = await usPer(N, (i) => limits.settle(admitted[i]!, 40, 1_000))
  const perCall = (await scriptCalls()) / N
  expect(perCall).toBe(2)
  const callServerUs = await serverUsPerScript()

  const M = 10_000
  let t0 = performance.now()
  const many = await Promise.all(Array.from({ length: M }, () => reserve(true)))
  const parallelUs = ((performance.now() - t0) * 1000) / M
  expect(many.every((r) => r.ok)).toBe(true)
  t0 = performance.now()
  await Promise.all(many.map((r) => limits.settle(held(r), 40, 1_000)))
  const settleParallelUs = ((performance.now() - t0) * 1000) / M

  const rows = [
    ['PING round trip, c=1', ping],
    ['reserve (3 scopes, 7 windows, 1 slot), c=1', reserveUs],
    ['reserve with the money hold, c=1', admitUs],
    ['settle with the money, c=1', afterUs],
    [`reserve with money, ${M} in flight, per call`, parallelUs],
    [`settle with money, ${M} in flight, per call`, settleParallelUs],
  ] as const
  console.log(`\nRedis time per reserve script: ${reserveServerUs.toFixed(1)} µs`)
  console.log(
    `Redis time per script of a call (reserve and settle with money): ${callServerUs.toFixed(1)} µs`,
  )
  console.log(
    `scripts (= round trips) per proxied call: ${perCall}, one before upstream, one after`,
  )
  for (const [what, us] of rows) console.log(`${what.padEnd(52)} ${us.toFixed(1).padStart(7)} µs`)
})
