// The shared money counters kept true to the database (SPEC §11). Each process lists in Redis what
// it holds and what it owes: its calls' open holds (the reserve script adds them, the settle
// script takes them off) and their settled costs until its flush has written them. So at any
// instant an account's counter should be its balance in the database less everything listed for
// it (the scripts keep that sum per account, `l:{id}`, with the lists). A missing counter is made
// that way, and on a schedule one node checks every counter against it and corrects the
// difference. A process whose heartbeat stopped (killed, cut off) has its open holds given back
// and its unwritten costs dropped (that usage is lost, so it is not owed either); if it was only
// cut off, its late settlements take the cost alone. Any change to a counter that is not a call's
// counts in the account's version: a seed or correction computed from the database is applied
// only if the version did not move and no admin write was moving money meanwhile.
import type { Clock } from '../shared/clock'
import type { Listing } from './gate'
import type { Logger } from '../shared/log'
import { booksKeys, MOVE_GUARD_MS, openHoldsKey, reapedKey, unflushedKey, VERSION_TTL_MS, type SharedHolds } from './holds'
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
  /** One heartbeat (the schedule's every third of the lease, or a test's). */
  beat(): Promise<void>
  /** One reconciliation pass over every counter (the schedule's, or a test's); corrections made. */
  reconcile(): Promise<number>
  /**
   * Makes the account's missing counter from the database: false when the books kept moving
   * (an admin write in progress); the caller refuses the call for now.
   */
  seed(accountId: number): Promise<boolean>
  stats(): BooksStats
  close(): void
}

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * KEYS: the process set, its heartbeat, its open holds, its reaped holds, the reaped processes.
 * ARGV: the process, the key prefix, how long reaped holds are remembered (ms). Only when the
 * heartbeat is gone: gives each open hold back to its account's counter and takes it off the
 * account's listed sum, remembers the holds (a process only cut off settles them late: then only
 * the cost is taken), and takes the process out of the set. Its unwritten costs stay listed
 * (only cut off, it writes them yet) until PURGE. Each account touched counts in its version.
 * Returns how many holds came back, or -1.
 */
const REAP = defineScript(`${NOW}
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end
local p = ARGV[2]
local n = 0
local open = redis.call('HGETALL', KEYS[3])
for i = 1, #open, 2 do
  local a, h = string.match(open[i + 1], '^(%d+):(%d+)$')
  if a then
    local m = p .. 'm:' .. a
    if redis.call('EXISTS', m) == 1 then redis.call('INCRBY', m, h) end
    if redis.call('DECRBY', p .. 'l:' .. a, h) <= 0 then redis.call('DEL', p .. 'l:' .. a) end
    redis.call('INCR', p .. 'v:' .. a)
    redis.call('PEXPIRE', p .. 'v:' .. a, ${VERSION_TTL_MS})
    redis.call('HSET', KEYS[4], open[i], open[i + 1])
    n = n + 1
  end
end
if n > 0 then redis.call('PEXPIRE', KEYS[4], ARGV[3]) end
redis.call('DEL', KEYS[3])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[5], now, ARGV[1])
return n
`)

/**
 * KEYS: the process set, the reaped processes, the process's unwritten costs. ARGV: the process,
 * the key prefix, ttlMs. A process reaped longer ago than ttlMs and not back: its unwritten costs
 * are lost usage, owed by nobody; they leave the listed sums (each account's version moves).
 * A process that came back keeps its list. Returns how many costs went, or -1 (not yet, or back).
 */
const PURGE = defineScript(`${NOW}
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
local at = redis.call('ZSCORE', KEYS[2], ARGV[1])
if at and tonumber(at) > now - tonumber(ARGV[3]) then return -1 end
local p = ARGV[2]
local n = 0
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do
  local a, c = string.match(v, '^(%d+):(%d+)$')
  if a then
    if redis.call('DECRBY', p .. 'l:' .. a, c) <= 0 then redis.call('DEL', p .. 'l:' .. a) end
    redis.call('INCR', p .. 'v:' .. a)
    redis.call('PEXPIRE', p .. 'v:' .. a, ${VERSION_TTL_MS})
    n = n + 1
  end
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
`)

/**
 * KEYS: moves in progress. ARGV: key prefix, guardMs, account ids. {0} while an admin write is
 * moving money; else {1, then per account: its counter ('' when absent), what is listed for it
 * (open holds + unwritten costs, on every node) and its version}.
 */
const SNAPSHOT = defineScript(`${NOW}
if redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[2]), '+inf') > 0 then return {0} end
local out = {1}
for i = 3, #ARGV do
  out[#out + 1] = redis.call('GET', ARGV[1] .. 'm:' .. ARGV[i]) or ''
  out[#out + 1] = redis.call('GET', ARGV[1] .. 'l:' .. ARGV[i]) or '0'
  out[#out + 1] = redis.call('GET', ARGV[1] .. 'v:' .. ARGV[i]) or '0'
end
return out
`)

/**
 * KEYS: moves in progress. ARGV: key prefix, guardMs, then account id, correction and the version
 * the snapshot saw, per account. Each is applied only if nothing but calls moved that counter
 * since (calls move the counter and the listed sum together, so the difference stands), and counts
 * in its version, so a second pass on the same snapshot changes nothing. Returns how many.
 */
const CORRECT = defineScript(`${NOW}
if redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[2]), '+inf') > 0 then return 0 end
local n = 0
for i = 3, #ARGV, 3 do
  local m = ARGV[1] .. 'm:' .. ARGV[i]
  local v = ARGV[1] .. 'v:' .. ARGV[i]
  if (redis.call('GET', v) or '0') == ARGV[i + 2] and redis.call('EXISTS', m) == 1 then
    redis.call('INCRBY', m, ARGV[i + 1])
    redis.call('INCR', v)
    redis.call('PEXPIRE', v, ${VERSION_TTL_MS})
    n = n + 1
  end
end
return n
`)

/**
 * KEYS: the process's unflushed costs. ARGV: key prefix, then request ids whose charges the
 * database now holds: each listed one leaves the list and the account's listed sum. Where the
 * account has no counter, a seed may be reading the database: its version moves, so a seed that
 * read the balance before this write and the listed sum after it is refused.
 */
const WRITTEN = defineScript(`
local p = ARGV[1]
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    redis.call('HDEL', KEYS[1], ARGV[i])
    local a, c = string.match(v, '^(%d+):(%d+)$')
    if a then
      if redis.call('DECRBY', p .. 'l:' .. a, c) <= 0 then redis.call('DEL', p .. 'l:' .. a) end
      if redis.call('EXISTS', p .. 'm:' .. a) == 0 then
        redis.call('INCR', p .. 'v:' .. a)
        redis.call('PEXPIRE', p .. 'v:' .. a, ${VERSION_TTL_MS})
      end
    end
  end
end
return 1
`)

/**
 * Lists the process among those whose holds count, with a heartbeat of `leaseMs`: done before the
 * node serves (node.ts), then every third of the lease.
 */
export async function beatFor(redis: Redis, instance: string, leaseMs: number): Promise<void> {
  await redis.send('SET', [`${redis.prefix}hb:${instance}`, '1', 'PX', String(leaseMs)])
  await redis.send('SADD', [booksKeys(redis.prefix).nodes, instance])
}

/**
 * KEYS: the process's open holds and unflushed costs. ARGV: key prefix, the number of open holds,
 * then callId, accountId, amount per open hold and then per unwritten cost. Lists again what Redis
 * lost (a restart) or what a reaper took (this process was taken for dead): each entry not listed
 * joins its list and its account's listed sum, and is taken off the account's counter if one was
 * made without it. Each account touched counts in its version. Returns how many were missing.
 */
const RELIST = defineScript(`
local p = ARGV[1]
local nOpen = tonumber(ARGV[2])
local n = 0
local e = 0
for i = 3, #ARGV, 3 do
  local list = KEYS[2]
  if e < nOpen then list = KEYS[1] end
  e = e + 1
  local a = ARGV[i + 1]
  if redis.call('HSETNX', list, ARGV[i], a .. ':' .. ARGV[i + 2]) == 1 then
    redis.call('INCRBY', p .. 'l:' .. a, ARGV[i + 2])
    if redis.call('EXISTS', p .. 'm:' .. a) == 1 then redis.call('DECRBY', p .. 'm:' .. a, ARGV[i + 2]) end
    redis.call('INCR', p .. 'v:' .. a)
    redis.call('PEXPIRE', p .. 'v:' .. a, ${VERSION_TTL_MS})
    n = n + 1
  end
end
return n
`)

/** KEYS: the heartbeat, the process set. ARGV: the process, leaseMs. 1 when it was not in the set. */
const BEAT = defineScript(`
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return redis.call('SADD', KEYS[2], ARGV[1])
`)

/** Entries per RELIST script. */
const RELIST_CHUNK = 500

/** Accounts per snapshot: one script reads their counters and every process's lists. */
const BATCH = 500
/** Ids per script of written costs. */
const ACK_CHUNK = 1_000
/** A seed that finds the books moving tries again this many times, this far apart. */
const SEED_ATTEMPTS = 3
const SEED_RETRY_MS = 20
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
  holds: SharedHolds
  /** How long the holds of a process taken for dead are remembered (its calls' longest life). */
  reapedTtlMs: number
  /** What this process should have listed (gate.ts): listed again when Redis lost it. */
  listing?: () => Listing
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

  /** A beat that finds this process out of the set (Redis restarted, or it was taken for dead) lists again what it holds and owes. */
  const heartbeat = async () => {
    const added = await redis.run(BEAT, [beat(instance), keys.nodes], [instance, String(opts.leaseMs)])
    if (added === 1 && opts.listing) await relist(opts.listing())
  }

  const relist = async (l: Listing) => {
    const entries = [
      ...l.open.map((o) => [o.callId, String(o.accountId), String(o.holdNano)] as const),
      ...l.costs.map((c) => [c.callId, String(c.accountId), String(c.costNano)] as const),
    ]
    let missing = 0
    for (let i = 0; i < entries.length; i += RELIST_CHUNK) {
      const chunk = entries.slice(i, i + RELIST_CHUNK)
      const nOpen = Math.max(0, Math.min(chunk.length, l.open.length - i))
      const args = [p, String(nOpen)]
      for (const e of chunk) args.push(...e)
      missing += (await redis.run(RELIST, [openHoldsKey(p, instance), unflushedKey(p, instance)], args)) as number
    }
    if (missing) log.warn('listed again what Redis had lost of this node', { entries: missing })
  }

  let acknowledging = false
  const acknowledge = async () => {
    if (acknowledging) return
    acknowledging = true
    try {
      while (unacked.length) {
        // Taken off before it is sent (a trim meanwhile cannot drop unsent ids); back on failure.
        const chunk = unacked.splice(0, ACK_CHUNK)
        try {
          await redis.run(WRITTEN, [unflushedKey(p, instance)], [p, ...chunk])
        } catch (e) {
          unacked = chunk.concat(unacked)
          throw e
        }
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
      const k = [keys.nodes, beat(who), openHoldsKey(p, who), reapedKey(p, who), keys.reaped]
      const holds = (await redis.run(REAP, k, [who, p, String(opts.reapedTtlMs)])) as number
      if (holds < 0) continue
      n++
      stats.reaped++
      log.warn('a node stopped beating: its open holds are given back', { node: who, holds })
    }
    for (const who of (await redis.send('ZRANGE', [keys.reaped, '0', '-1'])) as string[]) {
      const k = [keys.nodes, keys.reaped, unflushedKey(p, who)]
      const costs = (await redis.run(PURGE, k, [who, p, String(opts.reapedTtlMs)])) as number
      if (costs > 0) log.warn("a dead node's unwritten usage is lost: no longer owed", { node: who, costs })
    }
    return n
  }

  const reconcileBatch = async (ids: number[]): Promise<number> => {
    const snap = (await redis.run(SNAPSHOT, [keys.moving], [p, String(MOVE_GUARD_MS), ...ids.map(String)])) as string[]
    if (Number(snap[0]) !== 1) return 0
    const at = (i: number) => ({ counter: snap[1 + 3 * i]!, listed: Number(snap[2 + 3 * i]), version: String(snap[3 + 3 * i]) })
    const present = ids.filter((_, i) => at(i).counter !== '')
    // Read after the snapshot: a flush committing in between lowers the balance before its
    // listing goes, so the difference can only come out low (never money that is not there).
    const balances = await opts.balancesOf(present)
    const args: string[] = []
    let moved = 0
    ids.forEach((id, i) => {
      const { counter, listed, version } = at(i)
      if (counter === '') return
      const delta = (balances.get(id) ?? 0) - listed - Number(counter)
      if (delta === 0 || !Number.isSafeInteger(delta)) return
      args.push(String(id), String(delta), version)
      moved += Math.abs(delta)
    })
    if (!args.length) return 0
    const n = (await redis.run(CORRECT, [keys.moving], [p, String(MOVE_GUARD_MS), ...args])) as number
    if (n <= 0) return 0
    stats.corrections += n
    stats.correctedNano += moved
    log.info('shared balances corrected from the database', { accounts: n, nano: moved })
    return n
  }

  /** A missing counter made from the database: its balance less what is listed, unless the books moved meanwhile. */
  const seed = async (id: number): Promise<boolean> => {
    for (let attempt = 0; attempt < SEED_ATTEMPTS; attempt++) {
      const version = await opts.holds.version(id)
      const balance = (await opts.balancesOf([id])).get(id) ?? 0
      if ((await opts.holds.seedFromBooks(id, balance, version)) !== 'changed') return true
      await Bun.sleep(SEED_RETRY_MS)
    }
    return false
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
    beat: heartbeat,
    reconcile,
    seed,
    stats: () => ({ ...stats, unacknowledged: unacked.length }),
    close() {
      closed = true
      clearInterval(beating)
      if (scheduled) clearInterval(scheduled)
    },
  }
}
