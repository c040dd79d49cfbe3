// The hot-path Redis client: scripts by SHA survive a Redis restart, a dead or stuck Redis fails a
// command within the timeout, and the client comes back by itself once Redis does.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { defineScript, openRedis, RedisUnavailableError, type Redis } from '../../src/cluster/redis'
import { startRedis, type RedisServer } from '../helpers/redis'

let srv: RedisServer
let redis: Redis
const TIMEOUT_MS = 200

beforeAll(async () => {
  srv = await startRedis()
  redis = await openRedis({ url: srv.url, commandTimeoutMs: TIMEOUT_MS, prefix: 't:' })
})
afterAll(async () => {
  redis.close()
  await srv.stop()
})

/** Retries until Redis answers again (the client reconnects in the background). */
async function untilUp(r: Redis, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    try {
      await r.send('PING', [])
      return
    } catch (e) {
      if (Date.now() > end) throw e
      await Bun.sleep(25)
    }
  }
}

const add = defineScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")

describe('scripts', () => {
  test('the SHA is computed locally and matches what Redis computes', async () => {
    expect(await redis.send('SCRIPT', ['LOAD', add.source])).toBe(add.sha)
  })

  test('a script Redis has never seen runs through EVAL, then by SHA', async () => {
    // A source no earlier run has loaded: its text carries this moment.
    const stamp = Date.now()
    const fresh = defineScript(`return ${stamp} - ${stamp - 1}`)
    expect(await redis.send('SCRIPT', ['EXISTS', fresh.sha])).toEqual([0])
    expect(await redis.run(fresh, [], [])).toBe(1)
    expect(await redis.send('SCRIPT', ['EXISTS', fresh.sha])).toEqual([1])
  })

  test('a server error in a script is thrown as it is, not as unavailability', async () => {
    const bad = defineScript("return redis.call('INCRBY', KEYS[1], 'x')")
    const err = await redis.run(bad, ['t:n'], []).catch((e) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err).not.toBeInstanceOf(RedisUnavailableError)
  })
})

describe('outages', () => {
  test('opening a client on a port where nothing listens fails within the connect timeout', async () => {
    const t0 = performance.now()
    const err = await openRedis({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 }).catch(
      (e) => e,
    )
    expect(err).toBeInstanceOf(RedisUnavailableError)
    expect(performance.now() - t0).toBeLessThan(1_000)
  })

  test('a killed Redis fails commands at once, and the scripts come back after the restart', async () => {
    expect(await redis.run(add, ['t:k'], ['2'])).toBe(2)
    await srv.kill()
    const t0 = performance.now()
    const errs = await Promise.all(
      Array.from({ length: 20 }, () => redis.run(add, ['t:k'], ['1']).catch((e) => e)),
    )
    const ms = performance.now() - t0
    for (const e of errs) expect(e).toBeInstanceOf(RedisUnavailableError)
    expect(ms).toBeLessThan(TIMEOUT_MS + 100)
    console.log(
      `killed Redis: 20 commands failed in ${ms.toFixed(1)} ms (timeout ${TIMEOUT_MS} ms)`,
    )
    await srv.restart()
    const t1 = performance.now()
    await untilUp(redis)
    console.log(
      `killed Redis: the client answered again ${(performance.now() - t1).toFixed(0)} ms after the restart`,
    )
    // Restarted empty: the script cache is gone too, and run() loads it again.
    expect(await redis.run(add, ['t:k'], ['5'])).toBe(5)
  })

  test('a stuck Redis (SIGSTOP) fails a command within the timeout, and the client recovers', async () => {
    srv.freeze()
    try {
      const t0 = performance.now()
      const err = await redis.send('GET', ['t:k']).catch((e) => e)
      const ms = performance.now() - t0
      expect(err).toBeInstanceOf(RedisUnavailableError)
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5)
      expect(ms).toBeLessThan(TIMEOUT_MS + 150)
      console.log(`stuck Redis: GET failed after ${ms.toFixed(1)} ms (timeout ${TIMEOUT_MS} ms)`)
    } finally {
      srv.thaw()
    }
    await untilUp(redis)
    expect(await redis.send('GET', ['t:k'])).toBe('5')
  })
})

describe('pub/sub', () => {
  test('a subscriber is a client of its own; the hot-path client keeps answering', async () => {
    const sub = await redis.subscriber()
    const got: string[] = []
    await sub.subscribe('t:ch', (m) => got.push(m))
    expect(await redis.send('PUBLISH', ['t:ch', 'hello'])).toBe(1)
    expect(await redis.send('PING', [])).toBe('PONG')
    const end = Date.now() + 1_000
    while (got.length === 0 && Date.now() < end) await Bun.sleep(5)
    expect(got).toEqual(['hello'])
    sub.close()
  })
})
