// Four separate processes on one real Redis, as four xgate nodes would be: limits and money hold
// exactly, whichever process a call lands on.
import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createSharedHolds } from '../../src/cluster/holds'
import { createSharedLimits } from '../../src/cluster/limits'
import { openRedis, type Redis } from '../../src/cluster/redis'
import { createCalendar } from '../../src/limits/daykey'
import { startRedis, type RedisServer } from '../helpers/redis'

let srv: RedisServer
let redis: Redis
const WORKER = join(import.meta.dir, 'reserve-worker.ts')

beforeAll(async () => {
  srv = await startRedis()
  redis = await openRedis({ url: srv.url, prefix: 'mp:' })
})
afterAll(async () => {
  redis.close()
  await srv.stop()
})
beforeEach(async () => {
  await redis.send('FLUSHALL', [])
})

/** Starts four workers that fire together about 700 ms from now; how many each admitted. */
async function fourProcesses(what: 'limits' | 'holds', each: number): Promise<number[]> {
  const startAt = Date.now() + 700
  const procs = Array.from({ length: 4 }, () =>
    Bun.spawn([process.execPath, WORKER, srv.url, what, String(each), String(startAt)], {
      stdout: 'pipe',
      stderr: 'pipe',
    }),
  )
  return Promise.all(
    procs.map(async (p) => {
      const [out, err, code] = await Promise.all([
        new Response(p.stdout).text(),
        new Response(p.stderr).text(),
        p.exited,
      ])
      if (code !== 0) throw new Error(`worker exited ${code}: ${err}`)
      return Number(out.trim())
    }),
  )
}

test('200 reservations from 4 processes at once against RPM 50: exactly 50 pass', async () => {
  const admitted = await fourProcesses('limits', 50)
  expect(admitted.reduce((a, b) => a + b, 0)).toBe(50)
  const limits = createSharedLimits({ redis, calendar: createCalendar('UTC') })
  const use = await limits.usage('a:2', Date.UTC(2026, 0, 15, 12, 0, 30))
  expect(use.rpm).toBe(50)
  // The parent counted the same 50 and nothing for the 150 refused.
  expect((await limits.usage('a:1', Date.UTC(2026, 0, 15, 12, 0, 30))).rpm).toBe(50)
})

test('a $2 account held from 4 processes at once keeps its $0.10 minimum', async () => {
  const holds = createSharedHolds({ redis })
  await holds.seed(9, 2_000_000_000)
  const admitted = await fourProcesses('holds', 25)
  expect(admitted.reduce((a, b) => a + b, 0)).toBe(38)
  expect(await holds.available(9)).toBe(100_000_000)
})
