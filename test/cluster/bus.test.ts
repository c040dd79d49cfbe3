// Changes pushed between nodes on a real Redis: delivered within 1 s to every node, by kind; a
// node whose subscription dropped (Redis restarted) resyncs before it delivers again.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createBus, type Bus, type Change } from '../../src/cluster/bus'
import { openRedis, RedisUnavailableError, type Redis } from '../../src/cluster/redis'
import { startRedis, type RedisServer } from '../helpers/redis'

let srv: RedisServer
const clients: Redis[] = []
const buses: Bus[] = []

async function node(id: string): Promise<Bus> {
  const r = await openRedis({ url: srv.url, commandTimeoutMs: 500, prefix: 'bt:' })
  clients.push(r)
  const b = await createBus({ redis: r, nodeId: id, retryMs: 50 })
  buses.push(b)
  return b
}

async function until(ok: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

beforeAll(async () => {
  srv = await startRedis()
})
afterAll(async () => {
  for (const b of buses) b.close()
  for (const c of clients) c.close()
  await srv.stop()
})

describe('delivery', () => {
  test('a change published on one node reaches the others within 1 s, by kind', async () => {
    const a = await node('n1')
    const b = await node('n2')
    const c = await node('n3')
    const keysOnB: Change[] = []
    const allOnC: Change[] = []
    b.on('key', (ch) => keysOnB.push(ch))
    c.on('*', (ch) => allOnC.push(ch))
    const t0 = performance.now()
    await a.publish('key', 42)
    await a.publish('account', 'a-7')
    await until(() => keysOnB.length === 1 && allOnC.length === 2, 1_000, 'delivery')
    const ms = performance.now() - t0
    console.log(`bus: two changes reached two other nodes in ${ms.toFixed(1)} ms`)
    expect(keysOnB).toEqual([{ kind: 'key', id: '42', node: 'n1' }])
    expect(allOnC.map((x) => `${x.kind}:${x.id}`)).toEqual(['key:42', 'account:a-7'])
  })

  test('a handler that throws does not stop the others', async () => {
    const a = await node('n4')
    const errors: unknown[] = []
    const r = await openRedis({ url: srv.url, prefix: 'bt:' })
    clients.push(r)
    const b = await createBus({ redis: r, nodeId: 'n5', onError: (e) => errors.push(e) })
    buses.push(b)
    const got: string[] = []
    b.on('news', () => {
      throw new Error('boom')
    })
    b.on('news', (ch) => got.push(ch.id))
    await a.publish('news', 3)
    await until(() => got.length === 1, 1_000, 'delivery')
    expect(errors.length).toBe(1)
  })

  test('a kind that is not a plain name is refused, naming kind', async () => {
    const a = await node('n6')
    await expect(a.publish('Key Change', 1)).rejects.toThrow('kind')
    expect(() => a.on('', () => {})).toThrow('kind')
  })
})

describe('resync', () => {
  test('after Redis restarts, every node resyncs before it delivers again', async () => {
    const a = await node('n7')
    const b = await node('n8')
    const events: string[] = []
    let cache = new Map([['key:1', 'cached']])
    b.onResync(async () => {
      events.push('resync start')
      cache = new Map()
      // A change published while the resync runs is delivered after it (the publishing client
      // may still be reconnecting: it fails fast, so try until it is back).
      for (let i = 0; ; i++) {
        const sent = await a.publish('key', 'during').then(
          () => true,
          () => false,
        )
        if (sent || i > 200) break
        await Bun.sleep(10)
      }
      await Bun.sleep(50)
      events.push('resync end')
    })
    b.on('key', (ch) => events.push(`change ${ch.id}`))
    expect(b.live).toBe(true)
    await srv.kill()
    await until(() => !b.live && !a.live, 2_000, 'the buses to see the drop')
    // While Redis is away a change cannot be announced: the publisher learns it at once.
    expect(await a.publish('key', 'lost').catch((e) => e)).toBeInstanceOf(RedisUnavailableError)
    await srv.restart()
    await until(() => a.live && b.live, 5_000, 'the buses to come back')
    await until(() => events.includes('change during'), 1_000, 'the held change')
    expect(events).toEqual(['resync start', 'resync end', 'change during'])
    expect(cache.size).toBe(0)
    expect(b.resyncs).toBe(1)
    expect(a.resyncs).toBe(1)
    await a.publish('key', 'after')
    await until(() => events.includes('change after'), 1_000, 'delivery after the restart')
  })

  test('a subscription dropped while Redis stays up (a network blip) resyncs too', async () => {
    const a = await node('n9')
    const b = await node('n10')
    const events: string[] = []
    b.onLost(() => void events.push('lost'))
    b.onResync(() => void events.push('resync'))
    b.on('account', (ch) => events.push(`change ${ch.id}`))
    const before = b.resyncs
    // Cuts every subscribing connection, as a load balancer or a network fault would.
    await clients[0]!.send('CLIENT', ['KILL', 'TYPE', 'pubsub'])
    await until(() => b.resyncs === before + 1 && b.live, 5_000, 'the resubscription')
    await a.publish('account', 5)
    await until(() => events.includes('change 5'), 1_000, 'delivery after the blip')
    // Told at the drop (caches go at once), then resynced before delivering again.
    expect(events).toEqual(['lost', 'resync', 'change 5'])
  })
})
