// The shared money counters kept true to the database (SPEC §11). Each process lists in Redis what
// it holds and what it owes: its calls' open holds (the reserve script adds them, the settle
// script takes them off) and their settled costs until its flush has written them. So at any
// instant an account's counter should be its balance in the database less everything listed for
// it. On a schedule one node checks that and corrects the difference; a process whose heartbeat
// stopped (killed, cut off) has its open holds given back and its unwritten costs dropped (that
// usage is lost, so it is not owed either).
import type { Clock } from '../shared/clock'
import type { Logger } from '../shared/log'
import { booksKeys, MOVE_GUARD_MS, openHoldsKey, unflushedKey } from './holds'
import { defineScript, type Redis } from './redis'

export type BooksStats = {
  /** Reconciliation passes run by this node, and the counters they corrected. */
  reconciles: number
  corrections: number
  /** Sum of the corrections' absolute values (book units). */
  correctedNano: number
  /** Processes taken for dead by this node (their open holds given back). */
  reaped: number
  /** Written costs whose listing Redis has not taken off yet (retried). */
  unacknowledged: number
  lastReconcileAtMs: number | null
}

export type Books = {
  /** The ledger wrote these calls' charges: they are no longer this process's to owe. */
  flushed(requestIds: readonly string[]): void
  /** Gives back the open holds of every process whose heartbeat stopped; how many were. */
  reap(): Promise<number>
  /** One reconciliation pass over every counter (the schedule's, or a test's); corrections made. */
  reconcile(): Promise<number>
  stats(): BooksStats
  close(): void
}

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * KEYS: the process set, its heartbeat, its open holds, its unflushed costs, the sequence.
 * ARGV: the process, the key prefix. Only when the heartbeat is gone: gives each open hold back to
 * its account's counter, drops the lists, and takes the process out of the set.
 */
const REAP = defineScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end
local n = 0
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do
  local a, h = string.match(v, '^(%d+):(%d+)$')
  if a then
    local m = ARGV[2] .. 'm:' .. a
    if redis.call('EXISTS', m) == 1 then redis.call('INCRBY', m, h) end
    n = n + 1
  end
end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('INCR', KEYS[5])
return n
`)

/**
 * KEYS: the process set, moves in progress, the sequence. ARGV: key prefix, guardMs, account ids.
 * {0} while an admin write is moving money; else {1, sequence, then per account: its counter
 * ('' when absent) and the sum listed for it by every process (open holds + unflushed costs)}.
 */
const SNAPSHOT = defineScript(`${NOW}
if redis.call('ZCOUNT', KEYS[2], now - tonumber(ARGV[2]), '+inf') > 0 then return {0} end
local listed = {}
for i = 3, #ARGV do listed[ARGV[i]] = 0 end
for _, p in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  for _, h in ipairs({'o:', 'u:'}) do
    for _, v in ipairs(redis.call('HVALS', ARGV[1] .. h .. p)) do
      local a, n = string.match(v, '^(%d+):(%d+)$')
      if a and listed[a] then listed[a] = listed[a] + tonumber(n) end
    end
  end
end
local out = {1, redis.call('GET', KEYS[3]) or '0'}
for i = 3, #ARGV do
  out[#out + 1] = redis.call('GET', ARGV[1] .. 'm:' .. ARGV[i]) or ''
  out[#out + 1] = listed[ARGV[i]]
end
return out
`)

/**
 * KEYS: moves in progress, the sequence. ARGV: key prefix, guardMs, the snapshot's sequence, then
 * account id and correction pairs. Applied only if nothing but calls moved a counter since the
 * snapshot (calls move the counter and the lists together, so the difference stands); counts in
 * the sequence, so a second pass on the same snapshot changes nothing.
 */
const CORRECT = defineScript(`${NOW}
if redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[2]), '+inf') > 0 then return -1 end
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[3] then return -1 end
local n = 0
for i = 4, #ARGV, 2 do
  local k = ARGV[1] .. 'm:' .. ARGV[i]
  if redis.call('EXISTS', k) == 1 then
    redis.call('INCRBY', k, ARGV[i + 1])
    n = n + 1
  end
end
if n > 0 then redis.call('INCR', KEYS[2]) end
return n
`)

/**
 * Lists the process among those whose holds count, with a heartbeat of `leaseMs`: done before the
 * node serves (node.ts), then every third of the lease.
 */
export async function beatFor(redis: Redis, instance: string, leaseMs: number): Promise<void> {
  await redis.send('SET', [`${redis.prefix}hb:${instance}`, '1', 'PX', String(leaseMs)])
  await redis.send('SADD', [booksKeys(redis.prefix).nodes, instance])
}

/** Accounts per snapshot: one script reads their counters and every process's lists. */
const BATCH = 500
/** Ids per HDEL of written costs. */
const ACK_CHUNK = 1_000
const MAX_UNACKNOWLEDGED = 1_000_000

export function createBooks(opts: {
  redis: Redis
  /** This process (node.ts). */
  instance: string
  clock: Clock
  log: Logger
  /** A process that has not beaten for this long is taken for dead (SLOT_LEASE_MS). */
  leaseMs: number
  /** Reconciliation schedule (RECONCILE_MS); 0: only when asked. */
  periodMs: number
  /** Live balances in the database (book units), accounts without cards absent. */
  balancesOf: (accountIds: readonly number[]) => Promise<Map<number, number>>
}): Books {
  const { redis, instance, log } = opts
  const p = redis.prefix
  const keys = booksKeys(p)
  const beat = (who: string) => `${p}hb:${who}`
  const stats: BooksStats = {
    reconciles: 0,
    corrections: 0,
    correctedNano: 0,
    reaped: 0,
    unacknowledged: 0,
    lastReconcileAtMs: null,
  }
  let unacked: string[] = []
  let closed = false

  const heartbeat = () => beatFor(redis, instance, opts.leaseMs)

  let acknowledging = false
  const acknowledge = async () => {
    if (acknowledging) return
    acknowledging = true
    try {
      while (unacked.length) {
        const chunk = unacked.slice(0, ACK_CHUNK)
        await redis.send('HDEL', [unflushedKey(p, instance), ...chunk])
        unacked = unacked.slice(chunk.length)
      }
    } finally {
      acknowledging = false
    }
  }

  const reap = async () => {
    const members = (await redis.send('SMEMBERS', [keys.nodes])) as string[]
    let n = 0
    for (const who of members) {
      if (who === instance) continue
      const k = [keys.nodes, beat(who), openHoldsKey(p, who), unflushedKey(p, who), keys.seq]
      const holds = (await redis.run(REAP, k, [who, p])) as number
      if (holds < 0) continue
      n++
      stats.reaped++
      log.warn('a node stopped beating: its open holds are given back', { node: who, holds })
    }
    return n
  }

  const reconcileBatch = async (ids: number[]): Promise<number> => {
    const snap = (await redis.run(SNAPSHOT, [keys.nodes, keys.moving, keys.seq], [p, String(MOVE_GUARD_MS), ...ids.map(String)])) as Array<number | string>
    if (snap[0] !== 1) return 0
    const seq = String(snap[1])
    const present = ids.filter((_, i) => snap[2 + 2 * i] !== '')
    // Read after the snapshot: a flush committing in between lowers the balance before its
    // listing goes, so the difference can only come out low (never money that is not there).
    const balances = await opts.balancesOf(present)
    const pairs: string[] = []
    let moved = 0
    ids.forEach((id, i) => {
      const counter = snap[2 + 2 * i]
      if (counter === '') return
      const should = (balances.get(id) ?? 0) - Number(snap[3 + 2 * i])
      const delta = should - Number(counter)
      if (delta === 0 || !Number.isSafeInteger(delta)) return
      pairs.push(String(id), String(delta))
      moved += Math.abs(delta)
    })
    if (!pairs.length) return 0
    const n = (await redis.run(CORRECT, [keys.moving, keys.seq], [p, String(MOVE_GUARD_MS), seq, ...pairs])) as number
    if (n <= 0) return 0
    stats.corrections += n
    stats.correctedNano += moved
    log.info('shared balances corrected from the database', { accounts: n, nano: moved })
    return n
  }

  /**
   * Redis that started less than a lease ago lost every list: each node lists itself again on its
   * next heartbeat, and until all have, what is listed is not everything that is open.
   */
  const justStarted = async () => {
    const info = String(await redis.send('INFO', ['server']))
    const up = Number(/uptime_in_seconds:(\d+)/.exec(info)?.[1] ?? Infinity)
    return up * 1000 < opts.leaseMs
  }

  const reconcile = async () => {
    if (await justStarted()) return 0
    let cursor = '0'
    let fixed = 0
    let ids: number[] = []
    do {
      const [next, found] = (await redis.send('SCAN', [cursor, 'MATCH', `${p}m:*`, 'COUNT', '1000'])) as [string, string[]]
      cursor = next
      for (const k of found) {
        const id = Number(k.slice(p.length + 2))
        if (Number.isSafeInteger(id) && id > 0) ids.push(id)
      }
      while (ids.length >= BATCH || (cursor === '0' && ids.length)) {
        fixed += await reconcileBatch(ids.slice(0, BATCH))
        ids = ids.slice(BATCH)
      }
    } while (cursor !== '0')
    stats.reconciles++
    stats.lastReconcileAtMs = opts.clock.now()
    return fixed
  }

  const quietly = (what: string, fn: () => Promise<unknown>) => async () => {
    if (closed) return
    try {
      await fn()
    } catch (e) {
      log.warn(`shared books: ${what} failed`, { error: (e as Error).message })
    }
  }

  const lease = Math.max(100, Math.floor(opts.leaseMs / 3))
  const beating = setInterval(quietly('heartbeat', async () => {
    await heartbeat()
    await acknowledge()
    await reap()
  }), lease)
  beating.unref?.()
  // One node a period does it (the others find the claim taken).
  const scheduled = opts.periodMs > 0
    ? setInterval(quietly('reconciliation', async () => {
        const claim = await redis.send('SET', [`${p}mrec`, instance, 'NX', 'PX', String(opts.periodMs)])
        if (claim === 'OK') await reconcile()
      }), opts.periodMs)
    : null
  scheduled?.unref?.()

  return {
    flushed(requestIds) {
      if (!requestIds.length || closed) return
      for (const id of requestIds) unacked.push(id)
      if (unacked.length > MAX_UNACKNOWLEDGED) unacked = unacked.slice(-MAX_UNACKNOWLEDGED)
      void acknowledge().catch(() => {})
    },
    reap,
    reconcile,
    stats: () => ({ ...stats, unacknowledged: unacked.length }),
    close() {
      closed = true
      clearInterval(beating)
      if (scheduled) clearInterval(scheduled)
    },
  }
}
