// The shared money counters kept true to the database (SPEC §11). Each process lists in Redis what
// it holds and what it owes: its calls' open holds (the reserve script adds them, the settle
// script takes them off) and their settled costs until its flush has written them. So at any
// instant an account's counter should be its balance in the database less everything listed for
// it (the scripts keep that sum per account, `l:{id}`, with the lists). A missing counter is made
// that way, and on a schedule one node checks every counter against it and corrects the
// difference. A process whose heartbeat stopped (killed, cut off) has its open holds given back
// at once and its unwritten costs dropped a while later (that usage is lost, so it is not owed
// either); if it was only cut off, its late settlements take the cost alone, and at its next
// heartbeat it lists again what it holds and owes. Any change to a counter that is not a call's
// counts in the account's version: a seed or correction computed from the database is applied
// only if the version did not move and no admin write was moving money meanwhile.
import type { Clock } from '../shared/clock'
import type { Listing } from './gate'
import type { Logger } from '../shared/log'
import { booksKeys, MOVE_GUARD_MS, openHoldsKey, reapedKey, unflushedKey, type SharedHolds } from './holds'
import { BEAT, CORRECT, PURGE, REAP, RELIST, SNAPSHOT, WRITTEN } from './books-scripts'
import type { Redis } from './redis'

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

/** The figures of a node whose books have not started (none yet). */
export const noBooks = (): BooksStats => ({
  reconciles: 0,
  corrections: 0,
  correctedNano: 0,
  reaped: 0,
  unacknowledged: 0,
  lastReconcileAtMs: null,
})

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

/** `{prefix}hb:{instance}`: present while the process beats. */
const heartbeatKey = (prefix: string, instance: string) => `${prefix}hb:${instance}`

/**
 * Lists the process among those whose holds count, with a heartbeat of `leaseMs`: done before the
 * node serves (node.ts), then every third of the lease.
 */
export async function beatFor(redis: Redis, instance: string, leaseMs: number): Promise<boolean> {
  const keys = [heartbeatKey(redis.prefix, instance), booksKeys(redis.prefix).nodes]
  return (await redis.run(BEAT, keys, [instance, String(leaseMs)])) === 1
}


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
  /**
   * This node's cached balance (its own unwritten charges off): what a counter is made from while
   * the database is unreachable, so calls go on being served from memory.
   */
  cachedBalanceOf?: (accountId: number) => number
}): Books {
  const { redis, instance, log } = opts
  const p = redis.prefix
  const keys = booksKeys(p)
  const stats = noBooks()
  let unacked: string[] = []
  let closed = false

  /** A beat that finds this process out of the set (Redis restarted, or it was taken for dead) lists again what it holds and owes. */
  const heartbeat = async () => {
    const added = await beatFor(redis, instance, opts.leaseMs)
    if (added && opts.listing) await relist(opts.listing())
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
      const k = [keys.nodes, heartbeatKey(p, who), openHoldsKey(p, who), reapedKey(p, who), keys.reaped]
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

  const balanceForSeed = async (id: number): Promise<number> => {
    try {
      return (await opts.balancesOf([id])).get(id) ?? 0
    } catch (e) {
      if (!opts.cachedBalanceOf) throw e
      // What this node last read, its own unwritten charges off twice (off the cached balance and
      // in what is listed): low rather than high. A cache another node's write made stale was
      // dropped when the write was announced, and reads as 0 until read again.
      log.warn('database unreachable: a shared balance made from this node\'s cache', { accountId: id, error: (e as Error).message })
      return opts.cachedBalanceOf(id)
    }
  }

  /** A missing counter made from the database: its balance less what is listed, unless the books moved meanwhile. */
  const seed = async (id: number): Promise<boolean> => {
    for (let attempt = 0; attempt < SEED_ATTEMPTS; attempt++) {
      const version = await opts.holds.version(id)
      const balance = await balanceForSeed(id)
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
