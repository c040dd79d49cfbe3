// Alert mails on several nodes (SPEC §6, §11): every node sees the same SoftLimit crossing or low
// balance, but the gateway sends one mail; a top-up makes the next crossing mail again.
import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { createAlerts, type AlertClaims } from '../../src/alerts/service'
import { alertClaims } from '../../src/cluster/sync'
import { openRedis, type Redis } from '../../src/cluster/redis'
import { createFakeClock } from '../../src/shared/clock'
import { startRedis, type RedisServer } from '../helpers/redis'

const USD = 1_000_000_000
let srv: RedisServer
let redis: Redis
const sent: string[] = []

beforeAll(async () => {
  srv = await startRedis()
  redis = await openRedis({ url: srv.url, prefix: 'al:' })
})
afterAll(async () => {
  redis.close()
  await srv.stop()
})
beforeEach(async () => {
  sent.length = 0
  await redis.send('FLUSHALL', [])
})

const account = { id: 7, name: 'acme', email: 'acme@example.com', billingEmail: null, softLimitNano: 10 * USD }

function node(claims: AlertClaims) {
  return createAlerts({
    mailer: { enqueue: (m) => void sent.push(m.subject) },
    clock: createFakeClock(Date.UTC(2026, 11, 3)),
    timeZone: 'UTC',
    emailBalanceNano: () => 3 * USD,
    claims,
  })
}

const settled = () => Bun.sleep(50)

test('three nodes crossing the SoftLimit and the low balance at once send one mail each', async () => {
  const nodes = [node(alertClaims(redis)), node(alertClaims(redis)), node(alertClaims(redis))]
  for (const n of nodes) n.onSpend(account, 11 * USD, 2 * USD)
  await settled()
  expect(sent.length).toBe(2)
  expect(sent.filter((s) => /soft limit/i.test(s)).length).toBe(1)
  expect(sent.filter((s) => /balance/i.test(s)).length).toBe(1)
})

test('topped up on the node that mailed, the next crossing mails again (once)', async () => {
  const [a, b] = [node(alertClaims(redis)), node(alertClaims(redis))]
  a.onBalance(account, 2 * USD)
  b.onBalance(account, 2 * USD)
  await settled()
  expect(sent.length).toBe(1)
  a.onBalance(account, 50 * USD)
  b.onBalance(account, 50 * USD)
  await settled()
  a.onBalance(account, 1 * USD)
  b.onBalance(account, 1 * USD)
  await settled()
  expect(sent.length).toBe(2)
})

test('with Redis unreachable a node still mails (twice rather than never)', async () => {
  const down: AlertClaims = {
    claim: () => Promise.reject(new Error('Redis unavailable')),
    release: () => Promise.reject(new Error('Redis unavailable')),
  }
  node(down).onBalance(account, 1 * USD)
  await settled()
  expect(sent.length).toBe(1)
})
