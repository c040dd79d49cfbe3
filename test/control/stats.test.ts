// The counter registry: names, matching, atomic reset under concurrent increments, dropping an
// account's counters, the memory bound; and the online tracker.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createFakeClock } from '../../src/shared/clock'
import { startControlServer, type ControlServer } from '../../src/control/grpc'
import { createOnlineTracker } from '../../src/control/online'
import { createCounters, statName } from '../../src/control/stats'
import { makeCaller } from './client'
import { makeFakeBackend } from './fake-backend'

describe('counter names', () => {
  test('always four >>> segments, even for hostile IDs', () => {
    const ids = ['bob', 'a>>>b', 'trail>', '>>>', 'x>>>>y', '']
    for (const id of ids) {
      const names = [
        statName.traffic('user', id, 'uplink'),
        statName.traffic('outbound', id, 'downlink'),
        statName.requests('model', id, 'ratelimited'),
        statName.tokens('inbound', id, 'cached'),
        statName.cost('user', id),
      ]
      for (const n of names) expect(n.split('>>>')).toHaveLength(4)
    }
    expect(statName.traffic('user', 'bob', 'uplink')).toBe('user>>>bob>>>traffic>>>uplink')
    expect(statName.requests('inbound', 'openai', 'errors')).toBe(
      'inbound>>>openai>>>requests>>>errors',
    )
    expect(statName.tokens('model', 'gpt-4o', 'prompt')).toBe('model>>>gpt-4o>>>tokens>>>prompt')
    expect(statName.cost('outbound', 'k1')).toBe('outbound>>>k1>>>cost>>>nanousd')
  })
})

describe('createCounters', () => {
  test('query: substring, "" = all, patterns (any), regexp', () => {
    const c = createCounters()
    c.add('user>>>ann>>>traffic>>>uplink', 1)
    c.add('user>>>bo>>>traffic>>>uplink', 2)
    c.add('model>>>m1>>>requests>>>total', 3)
    const names = (q: Parameters<typeof c.query>[0]) => c.query(q).map((s) => s.name)
    expect(names({ pattern: '' })).toHaveLength(3)
    expect(names({})).toHaveLength(3)
    expect(names({ pattern: '>>>ann>>>' })).toEqual(['user>>>ann>>>traffic>>>uplink'])
    expect(names({ patterns: ['ann', 'm1'] })).toEqual([
      'model>>>m1>>>requests>>>total',
      'user>>>ann>>>traffic>>>uplink',
    ])
    expect(names({ patterns: ['^user>>>b'], regexp: true })).toEqual([
      'user>>>bo>>>traffic>>>uplink',
    ])
    expect(names({ patterns: ['^user>>>b'] })).toEqual([])
  })

  test('reset returns the old value and leaves 0; an unknown name stays unknown', () => {
    const c = createCounters()
    c.add('a>>>b>>>c>>>d', 5)
    expect(c.reset('a>>>b>>>c>>>d')).toBe(5)
    expect(c.get('a>>>b>>>c>>>d')).toBe(0)
    expect(c.reset('nope')).toBeUndefined()
    expect(c.get('nope')).toBeUndefined()
  })

  test('dropPrefix removes one account and nothing else', () => {
    const c = createCounters()
    c.add(statName.traffic('user', 'ann', 'uplink'), 1)
    c.add(statName.cost('user', 'ann'), 1)
    c.add(statName.cost('user', 'anna'), 1)
    c.add(statName.cost('model', 'ann'), 1)
    expect(c.dropPrefix(statName.prefix('user', 'ann'))).toBe(2)
    expect(c.query({}).map((s) => s.name)).toEqual([
      'model>>>ann>>>cost>>>nanousd',
      'user>>>anna>>>cost>>>nanousd',
    ])
  })

  test('new names past the bound are refused and counted', () => {
    const c = createCounters({ maxCounters: 2 })
    c.add('a', 1)
    c.add('b', 1)
    c.add('c', 1)
    c.add('a', 1)
    expect(c.size()).toBe(2)
    expect(c.get('c')).toBeUndefined()
    expect(c.get('a')).toBe(2)
    expect(c.refused()).toBe(1)
  })
})

describe('reset under concurrent increments', () => {
  const backend = makeFakeBackend()
  let srv: ControlServer
  beforeAll(async () => {
    srv = (await startControlServer({
      listen: '127.0.0.1:0',
      services: ['StatsService'],
      backend,
    }))!
  })
  afterAll(() => srv.stop())

  test('sum of returned old values + final value == total added', async () => {
    const name = statName.tokens('user', 'busy', 'completion')
    const c = makeCaller(srv.address, 'StatsService', 'xray.app.stats.command.StatsService')
    let added = 0
    let adding = true
    const adder = (async () => {
      for (let i = 0; adding || i < 5000; i++) {
        const n = 1 + (i % 7)
        backend.counters.add(name, n)
        added += n
        if (i % 10 === 0) await new Promise((r) => setImmediate(r))
      }
    })()
    const taken: number[] = []
    // One reset at a time, the adder running in between: a burst of answers handled in one I/O
    // turn would leave the adder no chance to run between them.
    for (let i = 0; i < 60; i++) {
      const r = await (i % 2
        ? c.call('GetStats', { name, reset: true })
        : c.call('QueryStats', { pattern: 'busy', reset: true }))
      const stat = r.stat as { value: number }[] | { value: number }
      taken.push(Array.isArray(stat) ? (stat[0]?.value ?? 0) : stat.value)
      await new Promise((done) => setImmediate(done))
    }
    adding = false
    await adder
    c.close()
    const takenSum = taken.reduce((a, b) => a + b, 0)
    expect(taken.filter((v) => v > 0).length).toBeGreaterThan(1)
    expect(takenSum + backend.counters.get(name)!).toBe(added)
  })
})

describe('createOnlineTracker', () => {
  test('counts IPs with calls in flight; the map outlives them; dropUser forgets it', () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1))
    const o = createOnlineTracker(clock)
    const map = 'user>>>ann>>>online'
    const a1 = o.enter('ann', '10.0.0.1')
    clock.advance(5000)
    const a2 = o.enter('ann', '10.0.0.1')
    const b = o.enter('ann', '10.0.0.2')
    expect(o.count(map)).toBe(2)
    expect(o.ips(map)).toEqual({ '10.0.0.1': 1767225605, '10.0.0.2': 1767225605 })
    a1()
    a1()
    expect(o.count(map)).toBe(2)
    a2()
    b()
    expect(o.count(map)).toBe(0)
    expect(o.users()).toEqual([])
    o.dropUser('ann')
    expect(o.count(map)).toBeUndefined()
  })

  test('a call ending after its account was dropped touches the new map not at all', () => {
    const o = createOnlineTracker(createFakeClock())
    const old = o.enter('ann', '10.0.0.1')
    o.dropUser('ann')
    o.enter('ann', '10.0.0.1')
    old()
    expect(o.count('user>>>ann>>>online')).toBe(1)
    expect(o.users()).toEqual(['user>>>ann>>>online'])
  })
})
