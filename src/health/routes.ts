// GET /healthz: liveness and a few facts an operator checks first.
import { Elysia, t } from 'elysia'
import { COMMIT, VERSION } from '../config'
import type { Flusher } from '../db/flusher'
import type { Engine } from '../db/sql'
import type { Clock } from '../shared/clock'

/** What /healthz reads: the clock and start time, the store's engine and its write-behind. */
export type HealthRoutesParts = { clock: Clock; startedAtMs: number; engine: Engine; flusher: Flusher }

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
      }),
    },
  )
