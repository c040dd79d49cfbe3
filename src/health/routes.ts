// GET /healthz: liveness and a few facts an operator checks first.
import { Elysia, t } from 'elysia'
import { COMMIT, VERSION } from '../config'
import type { Flusher } from '../db/flusher'
import type { Engine } from '../db/sql'
import type { Clock } from '../shared/clock'
import type { ClusterStatus } from '../cluster/node'

/** What /healthz reads: the clock and start time, the store's engine and its write-behind. */
export type HealthRoutesParts = {
  clock: Clock
  startedAtMs: number
  engine: Engine
  flusher: Flusher
  /** Several nodes: this node's view of the shared state. */
  cluster?: { status(): ClusterStatus }
}

const nodeOf = (deps: HealthRoutesParts) => {
  const c = deps.cluster?.status()
  if (!c) return null
  return {
    node: c.node,
    nodes: c.nodes,
    redis: { reachable: c.redis, lastError: c.lastError },
    changes: c.bus ? ('live' as const) : ('resyncing' as const),
    limits: c.mode === 'shared' ? ('shared' as const) : ('per-node' as const),
    money: c.mode === 'shared' ? ('shared' as const) : ('refused' as const),
    books: {
      reconciles: c.books.reconciles,
      corrections: c.books.corrections,
      reaped: c.books.reaped,
      retrying: c.books.retryingSettlements,
      lastReconcileAtMs: c.books.lastReconcileAtMs,
    },
  }
}

/** The store as the write-behind sees it: unreachable while its flushes fail. */
const storeOf = (deps: HealthRoutesParts) => {
  const f = deps.flusher.stats()
  return { engine: deps.engine, reachable: f.failingFor === 0, lastError: f.lastError }
}

export const healthRoutes = (deps: HealthRoutesParts) =>
  new Elysia({ name: 'health' }).get(
    '/healthz',
    () => ({
      status: 'ok' as const,
      version: VERSION,
      commit: COMMIT,
      uptimeS: Math.floor((deps.clock.now() - deps.startedAtMs) / 1000),
      pendingWrites: deps.flusher.pending(),
      store: storeOf(deps),
      cluster: nodeOf(deps),
    }),
    {
      detail: { summary: 'Liveness check', tags: ['System'], security: [] },
      response: t.Object({
        status: t.Literal('ok'),
        version: t.String(),
        commit: t.String(),
        uptimeS: t.Integer(),
        pendingWrites: t.Integer(),
        store: t.Object(
          {
            engine: t.Union([t.Literal('sqlite'), t.Literal('postgres')]),
            reachable: t.Boolean({ description: 'false while flushes to the database fail' }),
            lastError: t.Union([t.String(), t.Null()]),
          },
          { description: 'The database and whether the write-behind reaches it' },
        ),
        cluster: t.Union(
          [
            t.Object({
              node: t.String({ description: 'NODE_ID' }),
              nodes: t.Integer({ description: 'NODES: the share of each limit while Redis is away is limit ÷ NODES' }),
              redis: t.Object({ reachable: t.Boolean(), lastError: t.Union([t.String(), t.Null()]) }),
              changes: t.Union([t.Literal('live'), t.Literal('resyncing')], {
                description: "live: other nodes' changes reach this one as they are made",
              }),
              limits: t.Union([t.Literal('shared'), t.Literal('per-node')], {
                description: 'per-node: Redis is unreachable and each limit is enforced here at limit ÷ NODES',
              }),
              money: t.Union([t.Literal('shared'), t.Literal('refused')], {
                description: 'refused: Redis is unreachable and calls that hold money get 503 store_unavailable',
              }),
              books: t.Object(
                {
                  reconciles: t.Integer({ description: 'passes this node ran that checked every shared balance against the database' }),
                  corrections: t.Integer({ description: 'shared balances those passes set right' }),
                  reaped: t.Integer({ description: 'nodes this one found dead (heartbeat stopped) and gave their open holds back for' }),
                  retrying: t.Integer({ description: 'settlements with money Redis has not taken yet (sent again every second)' }),
                  lastReconcileAtMs: t.Union([t.Integer(), t.Null()]),
                },
                { description: 'The shared balances kept true to the database (RECONCILE_MS)' },
              ),
            }),
            t.Null(),
          ],
          { description: 'Several nodes (REDIS_URL): this node and the shared state; null on one node' },
        ),
      }),
    },
  )
