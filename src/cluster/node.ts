// One node of several (SPEC §11): its Redis connection, the change bus, the shared limits and
// money counters, the per-node fallback, and what /healthz and /metrics say about them.
import { hostname } from 'node:os'
import { ConfigError } from '../config'
import { createCalendar } from '../limits/daykey'
import { createLimitWindows } from '../limits/windows'
import type { Clock } from '../shared/clock'
import type { Logger } from '../shared/log'
import { beatFor, createBooks, noBooks, type Books, type BooksStats } from './books'
import { createBus, type Bus } from './bus'
import { createFallbackLimits } from './fallback'
import { createSharedGate, type SharedGate, type SharedGateState } from './gate'
import { createSharedHolds, type SharedHolds } from './holds'
import { createSharedLimits, type SharedLimits } from './limits'
import { openRedis, type Redis } from './redis'
import { createAnnouncer, moneyMoved, type Announcer, type MoneyMoves } from './sync'

export type ClusterConfig = {
  REDIS_URL?: string
  NODES: number
  NODE_ID?: string
  PORT: number
  REDIS_COMMAND_TIMEOUT_MS: number
  SLOT_LEASE_MS: number
  RECONCILE_MS: number
  UPSTREAM_TIMEOUT_MS: number
  TZ?: string
}

export type ClusterStatus = SharedGateState & {
  books: BooksStats & { retryingSettlements: number }
  node: string
  nodes: number
  /** The hot-path connection is up. */
  redis: boolean
  /** Subscribed and resynced: this node sees every change pushed by the others. */
  bus: boolean
  resyncs: number
}

export type Cluster = {
  /** NODE_ID: how /metrics and /healthz name this node. */
  readonly nodeId: string
  /** This process on the bus (NODE_ID and a random part): its own changes are not applied twice. */
  readonly instance: string
  readonly nodes: number
  readonly redis: Redis
  readonly bus: Bus
  /** Publishes this node's committed changes, retrying while Redis is away. */
  readonly announcer: Announcer
  readonly holds: SharedHolds
  /** What admin writes tell the shared counters, before and after their transaction. */
  readonly moneyMoves: MoneyMoves
  readonly limits: SharedLimits
  /** Set by attach(): the gate's shared store (needs this node's books for seeding). */
  gate: SharedGate | null
  /** Set by attach(): the counters kept true to the database (books.ts). */
  books: Books | null
  attach(parts: NodeBooks): SharedGate
  /** The ledger wrote these calls' charges (flusher.afterCommit). */
  flushed(requestIds: readonly string[]): void
  status(): ClusterStatus
  close(): void
}

/**
 * A money counter quiet for the longest call and this long is rebuilt from the books on next use:
 * every call has settled and every node has flushed it by then (a dead node's holds come back).
 */
const QUIET_MARGIN_MS = 5 * 60_000

/** What the shared money needs from this node's books and the database. */
export type NodeBooks = {
  /** This node's cached balance: what a missing counter is made from while the database is away. */
  cachedBalanceOf: (accountId: number) => number
  /** Live balances in the database: what missing counters are made from, and reconciled with. */
  balancesOf: (accountIds: readonly number[]) => Promise<Map<number, number>>
}

export async function openCluster(
  config: ClusterConfig & { REDIS_URL: string },
  deps: { clock: Clock; log: Logger },
): Promise<Cluster> {
  const nodeId = config.NODE_ID ?? `${hostname()}:${config.PORT}`
  // What the bus tells apart as "mine": unique per process even if two nodes share a NODE_ID.
  const instance = `${nodeId}#${crypto.randomUUID().slice(0, 8)}`
  const shown = config.REDIS_URL.replace(/\/\/[^@]*@/, '//')
  const redis = await openRedis({
    url: config.REDIS_URL,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
  }).catch((e: Error) => {
    throw new ConfigError(`REDIS_URL: cannot reach Redis at ${shown} (${e.message}); several nodes need it to start`)
  })
  const bus = await createBus({
    redis,
    nodeId: instance,
    retryMs: 200,
    onError: (e) => deps.log.warn('change bus', { error: (e as Error).message }),
  })
  if (config.NODES === 1) {
    deps.log.warn('NODES is 1 with REDIS_URL: while Redis is unreachable this node enforces every limit in full; set NODES to the number of nodes')
  }
  // Listed before it serves: its calls' holds count in every reconciliation from the first.
  await beatFor(redis, instance, config.SLOT_LEASE_MS)
  const calendar = createCalendar(config.TZ)
  // Slots are leased for SLOT_LEASE_MS and renewed while their call runs (gate.ts).
  const leaseMs = config.SLOT_LEASE_MS
  const quietMs = config.UPSTREAM_TIMEOUT_MS + QUIET_MARGIN_MS
  const limits = createSharedLimits({ redis, calendar, instance, leaseMs, quietMs })
  const holds = createSharedHolds({ redis, quietMs })
  const fallback = createFallbackLimits({
    windows: createLimitWindows({ clock: deps.clock, timeZone: config.TZ }),
    nodes: config.NODES,
  })
  const cluster: Cluster = {
    nodeId,
    instance,
    nodes: config.NODES,
    redis,
    bus,
    announcer: createAnnouncer(bus, deps.log),
    holds,
    moneyMoves: moneyMoved(holds, deps.log),
    limits,
    gate: null,
    books: null,
    attach(parts) {
      cluster.books = createBooks({
        redis,
        instance,
        clock: deps.clock,
        log: deps.log,
        leaseMs,
        periodMs: config.RECONCILE_MS,
        balancesOf: parts.balancesOf,
        cachedBalanceOf: parts.cachedBalanceOf,
        holds,
        reapedTtlMs: quietMs,
        listing: () => cluster.gate?.listing() ?? { open: [], costs: [] },
      })
      const books = cluster.books
      cluster.gate = createSharedGate({
        limits,
        holds,
        fallback,
        clock: deps.clock,
        log: deps.log,
        leaseMs,
        seed: (id) => books.seed(id),
        stale: (id) => cluster.moneyMoves.stale(id),
        written: (ids) => books.flushed(ids),
        drop: (id) => cluster.moneyMoves.drop(id),
        // Past this, the holds of its node (were it taken for dead) are forgotten.
        retryForMs: quietMs,
      })
      return cluster.gate
    },
    flushed(ids) {
      if (cluster.gate) cluster.gate.flushed(ids)
      else cluster.books?.flushed(ids)
    },
    status() {
      const g: SharedGateState = cluster.gate?.state() ?? {
        mode: 'shared',
        fallbackCalls: 0,
        moneyRefused: 0,
        settleFailures: 0,
        lastError: null,
      }
      // A dead connection is the fallback even before a call has tried it.
      const mode = redis.connected ? g.mode : 'fallback'
      const books = cluster.books?.stats() ?? noBooks()
      return {
        ...g,
        books: { ...books, retryingSettlements: cluster.gate?.retrying ?? 0 },
        mode,
        node: nodeId,
        nodes: config.NODES,
        redis: redis.connected,
        bus: bus.live,
        resyncs: bus.resyncs,
      }
    },
    close() {
      cluster.announcer.close()
      cluster.gate?.close()
      cluster.books?.close()
      cluster.moneyMoves.close()
      bus.close()
      redis.close()
    },
  }
  return cluster
}
