// An expiring card on several nodes (SPEC §2.3, §11): the money it still held leaves the account's
// shared counter once, whichever nodes see it expire.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createSharedHolds } from '../../src/cluster/holds'
import { openRedis, type Redis } from '../../src/cluster/redis'
import { cardExpiry } from '../../src/cluster/sync'
import { createFakeClock } from '../../src/shared/clock'
import { createMemoryLogger } from '../../src/shared/log'
import type { Card } from '../../src/wallet/cards'
import { createLedger } from '../../src/wallet/ledger'
import { startRedis, type RedisServer } from '../helpers/redis'

const USD = 1_000_000_000
const T = Date.UTC(2026, 11, 3)
let srv: RedisServer
let redis: Redis

beforeAll(async () => {
  srv = await startRedis()
  redis = await openRedis({ url: srv.url, prefix: 'ex:' })
})
afterAll(async () => {
  redis.close()
  await srv.stop()
})

const cards = (): Card[] => [
  { id: 1, amountNano: 5 * USD, balanceNano: 2 * USD, grantedAtMs: T - 1000, expiresAtMs: T + 10_000 },
  { id: 2, amountNano: 3 * USD, balanceNano: 3 * USD, grantedAtMs: T - 1000, expiresAtMs: T + 100_000 },
  { id: 3, amountNano: 1 * USD, balanceNano: 0, grantedAtMs: T - 1000, expiresAtMs: T + 20_000 },
]

test('a card expiring on the ledger of three nodes takes its money off the counter once', async () => {
  const clock = createFakeClock(T)
  const holds = createSharedHolds({ redis })
  const seen: Array<[number, number, string]> = []
  const onExpired = cardExpiry(redis, holds, createMemoryLogger())
  const ledgers = [0, 1, 2].map(() =>
    createLedger({
      load: async () => cards(),
      clock,
      log: createMemoryLogger(),
      onExpired: (id, nano, key) => {
        seen.push([id, nano, key])
        onExpired(id, nano, key)
      },
    }),
  )
  for (const l of ledgers) await l.warm(9)
  expect(ledgers.map((l) => l.balanceOf(9))).toEqual([5 * USD, 5 * USD, 5 * USD])
  await holds.seed(9, 5 * USD)
  clock.advance(15_000)
  expect(ledgers.map((l) => l.balanceOf(9))).toEqual([3 * USD, 3 * USD, 3 * USD])
  // Each node saw the $2 card go (the empty one is no money); asked again, none sees it twice.
  expect(seen.map(([id, nano]) => [id, nano])).toEqual([[9, 2 * USD], [9, 2 * USD], [9, 2 * USD]])
  ledgers.forEach((l) => l.balanceOf(9))
  expect(seen.length).toBe(3)
  await Bun.sleep(50)
  expect(await holds.available(9)).toBe(3 * USD)
})
