// The shared money counters kept true to the database (SPEC §11, books.ts): each process lists its
// open holds and unwritten costs, a settlement applies once however often it is sent, a reconciliation
// sets every counter to the database's balance less what is listed, never while an admin write is
// moving money, and a process that stopped beating has its open holds given back.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { beatFor, createBooks, type Books } from '../../src/cluster/books'
import { createFallbackLimits } from '../../src/cluster/fallback'
import { createSharedGate } from '../../src/cluster/gate'
import { createSharedHolds, type SharedHolds } from '../../src/cluster/holds'
import { createLimitWindows } from '../../src/limits/windows'
import { createSharedLimits, type SharedLimits, type SharedReservation } from '../../src/cluster/limits'
import { openRedis, type Redis } from '../../src/cluster/redis'
import { createCalendar } from '../../src/limits/daykey'
import { createFakeClock } from '../../src/shared/clock'
import { createMemoryLogger } from '../../src/shared/log'
import { startRedis, type RedisServer } from '../helpers/redis'

const USD = 1_000_000_000
const T = Date.UTC(2026, 0, 15, 12, 0, 0)
let srv: RedisServer
let redis: Redis
let holds: SharedHolds
/** The database's live balances, as the books read them. */
const db = new Map<number, number>()
const opened: Books[] = []

beforeAll(async () => {
  srv = await startRedis()
  redis = await openRedis({ url: srv.url, commandTimeoutMs: 2_000, prefix: 'bk:' })
  holds = createSharedHolds({ redis })
  // No pass runs in Redis's first lease (every node lists itself again by then): wait one out.
  await Bun.sleep(1_100)
})
afterAll(async () => {
  for (const b of opened) b.close()
  redis.close()
  await srv.stop()
})
beforeEach(async () => {
  for (const b of opened.splice(0)) b.close()
  await redis.send('FLUSHALL', [])
  db.clear()
})

type BooksOptions = Parameters<typeof createBooks>[0]

/** A process's books over `db`, closed after the test; `over` replaces any option. */
function booksOf(instance: string, over: Partial<BooksOptions> = {}) {
  const books = createBooks({
    redis,
    instance,
    clock: createFakeClock(),
    log: createMemoryLogger(),
    leaseMs: 1_000,
    periodMs: 0,
    balancesOf: async (ids) => new Map(ids.filter((id) => db.has(id)).map((id) => [id, db.get(id)!])),
    holds,
    reapedTtlMs: 60_000,
    ...over,
  })
  opened.push(books)
  return books
}

/** One process: its limits (which list its holds) and its books. */
async function node(instance: string, leaseMs = 1_000, reapedTtlMs = 60_000) {
  await beatFor(redis, instance, leaseMs)
  const limits = createSharedLimits({ redis, calendar: createCalendar('UTC'), instance })
  return { limits, books: booksOf(instance, { leaseMs, reapedTtlMs }) }
}

/** A node's shared gate over its limits, seeding and acknowledging through its books. */
const gateOf = (n: Awaited<ReturnType<typeof node>>) =>
  createSharedGate({
    limits: n.limits,
    holds,
    fallback: createFallbackLimits({ windows: createLimitWindows({ clock: createFakeClock() }), nodes: 2 }),
    clock: createFakeClock(T),
    log: createMemoryLogger(),
    leaseMs: 60_000,
    seed: (id) => n.books.seed(id),
    written: (ids) => n.books.flushed(ids),
  })

let seq = 0
async function hold(limits: SharedLimits, accountId: number, holdNano: number): Promise<SharedReservation> {
  const r = await limits.reserve({
    scopes: [],
    estTokens: 0,
    callId: `call-${++seq}`,
    nowMs: T,
    money: { accountId, holdNano, minNano: 0 },
  })
  if (!r.ok) throw new Error(`not admitted: ${r.code}`)
  return r.reservation
}

const listed = async (hash: string) => (await redis.send('HGETALL', [`bk:${hash}`])) as Record<string, string>

describe('what each process lists', () => {
  test('an open hold is listed until settled; then its cost, until written', async () => {
    const a = await node('A')
    db.set(5, 10 * USD)
    await holds.seed(5, 10 * USD)
    const r = await hold(a.limits, 5, 1 * USD)
    expect(await listed('o:A')).toEqual({ [r.callId]: `5:${1 * USD}` })
    await a.limits.settle(r, 10, 0.25 * USD)
    expect(await listed('o:A')).toEqual({})
    expect(await listed('u:A')).toEqual({ [r.callId]: `5:${0.25 * USD}` })
    a.books.flushed([r.callId])
    await Bun.sleep(50)
    expect(await listed('u:A')).toEqual({})
    expect(await holds.available(5)).toBe(9.75 * USD)
  })

  test('a settlement sent again (its reply lost) moves the counter once', async () => {
    const a = await node('A')
    await holds.seed(5, 10 * USD)
    const r = await hold(a.limits, 5, 1 * USD)
    const copy = { ...r, money: { ...r.money! } }
    const another = { ...r, money: { ...r.money! } }
    await a.limits.settle(r, 10, 0.25 * USD)
    await a.limits.settle(copy, 10, 0.25 * USD)
    await a.limits.release(another)
    expect(await holds.available(5)).toBe(9.75 * USD)
  })

  test('a settlement whose charge is already written lists no cost', async () => {
    const a = await node('A')
    await holds.seed(5, 10 * USD)
    const r = await hold(a.limits, 5, 1 * USD)
    await a.limits.settle(r, 10, 0.25 * USD, true)
    expect(await listed('u:A')).toEqual({})
    expect(await holds.available(5)).toBe(9.75 * USD)
  })
})

describe('reconciliation', () => {
  test('a counter that drifted becomes the balance less every open hold and unwritten cost', async () => {
    const a = await node('A')
    const b = await node('B')
    db.set(5, 10 * USD)
    await holds.seed(5, 10 * USD)
    await hold(a.limits, 5, 1 * USD) // open on A
    const done = await hold(b.limits, 5, 1 * USD)
    await b.limits.settle(done, 1, 0.5 * USD) // settled on B, not written yet
    // A settlement that never reached Redis and was not retried: the counter is $3 short.
    await redis.send('DECRBY', ['bk:m:5', String(3 * USD)])
    expect(await a.books.reconcile()).toBe(1)
    expect(await holds.available(5)).toBe(10 * USD - 1 * USD - 0.5 * USD)
    // Nothing moved since: a second pass corrects nothing.
    expect(await b.books.reconcile()).toBe(0)
    // B writes its charge (the database first), then takes its listing off: still true.
    db.set(5, 9.5 * USD)
    b.books.flushed([done.callId])
    await Bun.sleep(50)
    expect(await a.books.reconcile()).toBe(0)
    expect(await holds.available(5)).toBe(8.5 * USD)
    expect(a.books.stats()).toMatchObject({ corrections: 1, correctedNano: 3 * USD })
  })

  test('too much is corrected down as well, and a counter nobody made is left absent', async () => {
    const a = await node('A')
    db.set(5, 2 * USD)
    db.set(6, 4 * USD)
    await holds.seed(5, 7 * USD)
    expect(await a.books.reconcile()).toBe(1)
    expect(await holds.available(5)).toBe(2 * USD)
    expect(await holds.available(6)).toBeNull()
  })

  test('no correction while an admin write is moving money; after it, the move counts once', async () => {
    const a = await node('A')
    db.set(5, 10 * USD)
    await holds.seed(5, 10 * USD)
    const token = await holds.beginMove()
    // The write commits $2 more in the database; its counter has not moved yet.
    db.set(5, 12 * USD)
    expect(await a.books.reconcile()).toBe(0)
    expect(await holds.available(5)).toBe(10 * USD)
    await holds.moved(token, new Map([[5, 2 * USD]]))
    expect(await holds.available(5)).toBe(12 * USD)
    expect(await a.books.reconcile()).toBe(0)
    expect(await holds.available(5)).toBe(12 * USD)
  })

  test('a counter changed between the snapshot and the correction (a seed, a move) is not corrected', async () => {
    const a = await node('A')
    db.set(5, 10 * USD)
    await holds.seed(5, 4 * USD)
    // Reconcile twice at once: one pass corrects, the other finds the sequence moved.
    const [x, y] = await Promise.all([a.books.reconcile(), a.books.reconcile()])
    expect(x + y).toBe(1)
    expect(await holds.available(5)).toBe(10 * USD)
  })
})

describe('what the review found', () => {
  test("a counter made while another node holds money is the balance less that node's listing", async () => {
    const x = await node('X')
    const y = await node('Y')
    db.set(1, 10 * USD)
    await holds.seed(1, 10 * USD)
    const r = await hold(x.limits, 1, 2 * USD)
    await holds.forget(1) // e.g. an admin move that could not follow
    expect(await y.books.seed(1)).toBe(true)
    expect(await holds.available(1)).toBe(8 * USD)
    await x.limits.settle(r, 1, 1 * USD)
    expect(await holds.available(1)).toBe(9 * USD)
    expect(await y.books.reconcile()).toBe(0)
  })

  test('with the database away, a counter is made from the cached balance less what is listed', async () => {
    const x = await node('X')
    await holds.seed(1, 10 * USD)
    await hold(x.limits, 1, 2 * USD)
    await holds.forget(1)
    const books = booksOf('Z', {
      balancesOf: async () => {
        throw new Error('connection refused')
      },
      cachedBalanceOf: () => 9 * USD,
    })
    expect(await books.seed(1)).toBe(true)
    expect(await holds.available(1)).toBe(7 * USD)
  })

  test('a seed waits while an admin write is moving money, and is refused if it does not end', async () => {
    const y = await node('Y')
    db.set(1, 10 * USD)
    const token = await holds.beginMove()
    const seeding = y.books.seed(1)
    expect(await seeding).toBe(false)
    expect(await holds.available(1)).toBeNull()
    await holds.moved(token, new Map())
    expect(await y.books.seed(1)).toBe(true)
    expect(await holds.available(1)).toBe(10 * USD)
  })

  test('a reserve whose reply was lost is released once, if Redis had applied it, and never otherwise', async () => {
    const y = await node('Y')
    db.set(1, 10 * USD)
    await holds.seed(1, 10 * USD)
    const input = {
      scopes: [{ key: 'a:1', limits: { rpm: 100 } }],
      estTokens: 0,
      callId: 'lost-1',
      nowMs: T,
      money: { accountId: 1, holdNano: 3 * USD, minNano: 0 },
    }
    expect((await y.limits.reserve(input)).ok).toBe(true)
    const lost = y.limits.unanswered(input)!
    const twice = y.limits.unanswered(input)!
    await y.limits.release(lost)
    await y.limits.release(twice)
    expect(await holds.available(1)).toBe(10 * USD)
    expect((await y.limits.usage('a:1', T)).rpm).toBe(0)
    expect(await listed('o:Y')).toEqual({})
    // Never applied: releasing it moves nothing.
    await y.limits.release(y.limits.unanswered({ ...input, callId: 'never' })!)
    expect(await holds.available(1)).toBe(10 * USD)
    expect(await y.books.reconcile()).toBe(0)
  })

  test('a charge written before its settlement reached Redis leaves no listing behind', async () => {
    const y = await node('Y')
    db.set(1, 10 * USD)
    await holds.seed(1, 10 * USD)
    const gate = gateOf(y)
    try {
      const admitted = await gate.reserve({ accountId: 1, scopes: [], caps: [], estTokens: 0, callId: 'w-1', money: { holdNano: 2 * USD, minNano: 0 } })
      if (!admitted.ok) throw new Error(admitted.message)
      // The call ends and, in the same turn, a flush writes its charge: the settlement is not sent yet.
      gate.settle(admitted.ticket, 1, 0.5 * USD)
      db.set(1, 9.5 * USD)
      gate.flushed(['w-1'])
      await Bun.sleep(50)
      expect(await listed('u:Y')).toEqual({})
      expect(await redis.send('GET', ['bk:l:1'])).toBeNull()
      expect(await holds.available(1)).toBe(9.5 * USD)
      expect(await y.books.reconcile()).toBe(0)
    } finally {
      gate.close()
    }
  })

  test("a seed that read the balance before another node's write, or before an expiry, is refused", async () => {
    const x = await node('X')
    db.set(1, 10 * USD)
    await holds.seed(1, 10 * USD)
    const r = await hold(x.limits, 1, 2 * USD)
    await x.limits.settle(r, 1, 1 * USD)
    await holds.forget(1)
    // A seed reads the version, then the database ($10, the $1 not written yet) …
    let version = await holds.version(1)
    // … X writes the charge and takes its listing off before the seed is applied.
    db.set(1, 9 * USD)
    x.books.flushed([r.callId])
    await Bun.sleep(50)
    expect(await holds.seedFromBooks(1, 10 * USD, version)).toBe('changed')
    // A card expiring while the counter is absent moves the version too.
    version = await holds.version(1)
    expect(await holds.adjust(1, -3 * USD)).toBe(false)
    expect(await holds.seedFromBooks(1, 9 * USD, version)).toBe('changed')
    expect(await x.books.seed(1)).toBe(true)
    expect(await holds.available(1)).toBe(9 * USD)
  })

  test('after Redis lost the lists, a node lists again what it holds and owes at its next beat', async () => {
    const y = await node('Y')
    db.set(1, 10 * USD)
    await holds.seed(1, 10 * USD)
    const gate = gateOf(y)
    const books = booksOf('Y', { listing: () => gate.listing() })
    try {
      const money = { holdNano: 2 * USD, minNano: 0 }
      const open = await gate.reserve({ accountId: 1, scopes: [], caps: [], estTokens: 0, callId: 'r-open', money })
      const ended = await gate.reserve({ accountId: 1, scopes: [], caps: [], estTokens: 0, callId: 'r-ended', money })
      if (!open.ok || !ended.ok) throw new Error('not admitted')
      gate.settle(ended.ticket, 1, 0.5 * USD)
      await Bun.sleep(50)
      expect(await holds.available(1)).toBe(7.5 * USD)
      // Redis restarts empty; a counter is made from the database before this node beats.
      await redis.send('FLUSHALL', [])
      expect(await y.books.seed(1)).toBe(true)
      expect(await holds.available(1)).toBe(10 * USD)
      await books.beat()
      expect(await holds.available(1)).toBe(7.5 * USD)
      expect(await redis.send('GET', ['bk:l:1'])).toBe(String(2.5 * USD))
      // The open call ends as if nothing had happened; its cost and the other's are written.
      gate.settle(open.ticket, 1, 1 * USD)
      await Bun.sleep(50)
      db.set(1, 8.5 * USD)
      gate.flushed(['r-open', 'r-ended'])
      await Bun.sleep(50)
      expect(await holds.available(1)).toBe(8.5 * USD)
      expect(await redis.send('GET', ['bk:l:1'])).toBeNull()
      expect(await books.reconcile()).toBe(0)
    } finally {
      gate.close()
    }
  })

  test('an admin write that outlasted its guard drops its counters instead of moving them', async () => {
    await node('Y')
    await holds.seed(1, 10 * USD)
    const token = await holds.beginMove()
    // As if the transaction had run past MOVE_GUARD_MS: a pass may have counted its move already.
    await redis.send('ZADD', ['bk:mmoving', '1', token])
    await holds.moved(token, new Map([[1, 2 * USD]]))
    expect(await holds.available(1)).toBeNull()
  })

  test("a change to one account's counter does not hold back another's correction", async () => {
    let sneak = true
    const books = booksOf('Z', {
      balancesOf: async (ids) => {
        // Between the snapshot and the correction another node seeds account 2.
        if (sneak) await holds.forget(2).then(() => holds.seed(2, 7 * USD))
        sneak = false
        return new Map(ids.map((id) => [id, 10 * USD]))
      },
    })
    await holds.seed(1, 4 * USD)
    await holds.seed(2, 4 * USD)
    expect(await books.reconcile()).toBe(1)
    expect(await holds.available(1)).toBe(10 * USD)
    expect(await holds.available(2)).toBe(7 * USD)
    expect(await books.reconcile()).toBe(1)
    expect(await holds.available(2)).toBe(10 * USD)
  })
})

describe('a Redis that has just started', () => {
  test('no pass runs until every node has had a heartbeat to list itself again', async () => {
    const fresh = await startRedis()
    const r = await openRedis({ url: fresh.url, commandTimeoutMs: 2_000, prefix: 'bk:' })
    try {
      const h = createSharedHolds({ redis: r })
      const books = createBooks({
        redis: r,
        instance: 'A',
        clock: createFakeClock(),
        log: createMemoryLogger(),
        leaseMs: 3_000,
        periodMs: 0,
        balancesOf: async () => new Map([[5, 10 * USD]]),
        holds: h,
        reapedTtlMs: 60_000,
      })
      opened.push(books)
      await h.seed(5, 3 * USD)
      expect(await books.reconcile()).toBe(0)
      expect(await h.available(5)).toBe(3 * USD)
      await Bun.sleep(3_100)
      expect(await books.reconcile()).toBe(1)
      expect(await h.available(5)).toBe(10 * USD)
    } finally {
      r.close()
      await fresh.stop()
    }
  })
})

describe('a process that stopped beating', () => {
  /** A process with open holds and an unwritten cost on account 5 stops beating; `live` reaps it. */
  async function stopped(reapedTtlMs: number) {
    const dead = await node('dead', 300)
    // Its own heartbeat timer does not reap during the test.
    const live = await node('live', 60_000, reapedTtlMs)
    db.set(5, 10 * USD)
    await holds.seed(5, 10 * USD)
    const cutOff = await hold(dead.limits, 5, 1 * USD)
    await hold(dead.limits, 5, 2 * USD)
    const settled = await hold(dead.limits, 5, 1 * USD)
    await dead.limits.settle(settled, 1, 0.5 * USD)
    await hold(live.limits, 5, 1 * USD)
    dead.books.close()
    expect(await live.books.reap()).toBe(0)
    await Bun.sleep(400)
    expect(await live.books.reap()).toBe(1)
    // $3 of open holds back; its $0.50 not yet written stays listed (it may be written yet).
    expect(await holds.available(5)).toBe(10 * USD - 1 * USD - 0.5 * USD)
    expect(await listed('o:dead')).toEqual({})
    expect(await listed('u:dead')).toEqual({ [settled.callId]: `5:${0.5 * USD}` })
    expect(await redis.send('SMEMBERS', ['bk:nodes'])).toEqual(['live'])
    // (A node with a short lease reconciles: a node's first lease after Redis starts has none.)
    const auditor = await node('auditor')
    expect(await auditor.books.reconcile()).toBe(0)
    return { dead, live, auditor, cutOff, settled }
  }

  test('dead: its open holds come back at once, its unwritten usage once it is clearly lost', async () => {
    const { live, auditor } = await stopped(200)
    await Bun.sleep(250)
    await live.books.reap()
    expect(await listed('u:dead')).toEqual({})
    expect(await auditor.books.reconcile()).toBe(1)
    expect(await holds.available(5)).toBe(9 * USD)
  })

  test('only cut off: its late settlement takes the cost alone, and what it then writes is owed once', async () => {
    const { dead, live, auditor, cutOff, settled } = await stopped(200)
    // Sent twice, the late settlement counts once: the hold came back already, the cost is taken.
    const again = { ...cutOff, money: { ...cutOff.money! } }
    await dead.limits.settle(cutOff, 1, 0.25 * USD)
    await dead.limits.settle(again, 1, 0.25 * USD)
    expect(await holds.available(5)).toBe(8.25 * USD)
    expect(await auditor.books.reconcile()).toBe(0)
    // Its heartbeat back before the purge: its list is live again and stays.
    const back = await node('dead', 60_000)
    await Bun.sleep(250)
    await live.books.reap()
    expect(Object.keys(await listed('u:dead')).sort()).toEqual([cutOff.callId, settled.callId].sort())
    // It writes both charges (the database first) and takes the listing off.
    db.set(5, 9.25 * USD)
    back.books.flushed([cutOff.callId, settled.callId])
    await Bun.sleep(50)
    expect(await listed('u:dead')).toEqual({})
    expect(await auditor.books.reconcile()).toBe(0)
    expect(await holds.available(5)).toBe(8.25 * USD)
  })
})

describe('under any interleaving', () => {
  test('holds, settlements, writes and reconciliations on three processes leave every counter true', async () => {
    const nodes = await Promise.all(['p0', 'p1', 'p2'].map((n) => node(n)))
    const op = fc.record({
      node: fc.integer({ min: 0, max: 2 }),
      account: fc.integer({ min: 1, max: 3 }),
      holdUsd: fc.integer({ min: 0, max: 3 }),
      costPct: fc.integer({ min: 0, max: 100 }),
      write: fc.boolean(),
      reconcile: fc.boolean(),
      drift: fc.integer({ min: -2, max: 2 }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
        await redis.send('FLUSHALL', [])
        for (const n of ['p0', 'p1', 'p2']) await beatFor(redis, n, 1_000)
        for (const id of [1, 2, 3]) {
          db.set(id, 500 * USD)
          await holds.seed(id, 500 * USD)
        }
        const unwritten: Array<{ node: number; id: string; account: number; cost: number }> = []
        await Promise.all(
          ops.map(async (o) => {
            const n = nodes[o.node]!
            const r = await hold(n.limits, o.account, o.holdUsd * USD)
            if (o.drift) await redis.send('INCRBY', [`bk:m:${o.account}`, String(o.drift * USD)])
            const cost = Math.floor((o.holdUsd * USD * o.costPct) / 100)
            await n.limits.settle(r, 1, cost)
            if (o.write) {
              // A flush: the database first, then the listing comes off.
              db.set(o.account, db.get(o.account)! - cost)
              n.books.flushed([r.callId])
            } else unwritten.push({ node: o.node, id: r.callId, account: o.account, cost })
            if (o.reconcile) await nodes[(o.node + 1) % 3]!.books.reconcile()
          }),
        )
        await Bun.sleep(20)
        await nodes[0]!.books.reconcile()
        for (const id of [1, 2, 3]) {
          const owed = unwritten.filter((u) => u.account === id).reduce((s, u) => s + u.cost, 0)
          expect(await holds.available(id)).toBe(db.get(id)! - owed)
        }
      }),
      { numRuns: 25 },
    )
  })
})
