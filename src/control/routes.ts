// HTTP side of the control API on the public listener: the JSON mirror of the gRPC services for
// root (POST /x-api/<Service>/<Method>) and GET /metrics in Prometheus text format.
import { Elysia, t } from 'elysia'
import { requireRoot, type Authenticator } from '../accounts/auth'
import type { Tree } from '../accounts/tree'
import type { Config } from '../config'
import { gateCaller } from '../reports/ident'
import { AppError } from '../shared/errors'
import type { Logger } from '../shared/log'
import type { RequestMeta } from '../shared/request-meta'
import type { ControlBackend } from './backend'
import { ControlError, GrpcStatus } from './errors'
import { METRICS_CONTENT_TYPE, renderMetrics, type MetricsSnapshot } from './metrics'
import { callControl, hasMethod } from './mirror'

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/
const STATUS_NAME = new Map<number, string>(
  Object.entries(GrpcStatus).map(([k, v]) => [v, k.toLowerCase()]),
)

function controlErrorResponse(e: ControlError): Response {
  const code = STATUS_NAME.get(e.grpcStatus) ?? 'unknown'
  const body = { error: { message: e.message, type: 'control_error', code } }
  return new Response(JSON.stringify(body), {
    status: e.httpStatus,
    headers: { 'content-type': 'application/json' },
  })
}

/**
 * What the control routes touch: the key check, the caller's tree, the enabled services, the
 * log, the control backend, and the gateway's figures for /metrics (app.ts reads them).
 */
export type ControlRoutesParts = {
  auth: Authenticator
  tree: Tree
  requestMeta: WeakMap<Request, RequestMeta>
  config: Pick<Config, 'API_SERVICES'>
  log: Logger
  backend: ControlBackend
  /** The figures of this moment, read on each scrape. */
  metrics: () => MetricsSnapshot
}

export const controlRoutes = (p: ControlRoutesParts) => {
  const { backend } = p
  /** The key's account, refused as disabled (401) under a disabled ancestor. */
  const usableCaller = async (request: Request) => {
    const caller = await p.auth.authenticate(request.headers)
    await gateCaller(p, request, caller)
    return caller
  }
  return new Elysia({ name: 'control' })
    .post(
      '/x-api/:service/:method',
      async ({ params, body, request }) => {
        requireRoot(await usableCaller(request))
        const short = params.service.replace(/^.*\./, '')
        if (!p.config.API_SERVICES.includes(short)) {
          throw new AppError('not_found', `control service ${short} is not enabled (API_SERVICES)`)
        }
        // Over HTTP a method that does not exist is an unknown route (404), not a server fault.
        if (!hasMethod(params.service, params.method)) {
          throw new AppError('not_found', `no control method ${params.service}/${params.method}`)
        }
        try {
          return await callControl(backend, params.service, params.method, body ?? {}, (e) =>
            p.log.error('control call failed', { error: String(e) }),
          )
        } catch (e) {
          if (e instanceof ControlError) return controlErrorResponse(e)
          throw e
        }
      },
      {
        params: t.Object({ service: t.String(), method: t.String() }),
        body: t.Optional(t.Unknown()),
        detail: {
          summary:
            'Control API as JSON (root): the gRPC message as JSON, e.g. StatsService/QueryStats',
          tags: ['Control'],
        },
      },
    )
    .get(
      '/metrics',
      async ({ request }) => {
        const ip = p.requestMeta.get(request)?.ip ?? ''
        if (!LOOPBACK.test(ip)) requireRoot(await usableCaller(request))
        return new Response(renderMetrics(p.metrics()), {
          headers: { 'content-type': METRICS_CONTENT_TYPE },
        })
      },
      {
        detail: {
          summary: 'Prometheus metrics (root key, or any caller from loopback)',
          tags: ['Control'],
        },
      },
    )
}
