// GET /healthz: liveness and a few facts an operator checks first.
import { Elysia, t } from 'elysia'
import { COMMIT, VERSION } from '../config'
import type { Deps } from '../deps'

export const healthRoutes = (deps: Deps) =>
  new Elysia({ name: 'health' }).get(
    '/healthz',
    () => ({
      status: 'ok' as const,
      version: VERSION,
      commit: COMMIT,
      uptimeS: Math.floor((deps.clock.now() - deps.startedAtMs) / 1000),
      pendingWrites: deps.flusher.pending(),
    }),
    {
      detail: { summary: 'Liveness check', tags: ['System'], security: [] },
      response: t.Object({
        status: t.Literal('ok'),
        version: t.String(),
        commit: t.String(),
        uptimeS: t.Integer(),
        pendingWrites: t.Integer(),
      }),
    },
  )
