// createApp(deps): the Elysia root. It renders every error in the caller's dialect, mounts the
// docs, and adds one `.use()` per feature.
import { StoreUnavailableError } from './db/sql'
import { Elysia } from 'elysia'
import { accountRoutes } from './accounts/routes'
import { consoleRoutes } from './console/routes'
import { metricsSnapshot } from './control/gateway'
import { controlRoutes } from './control/routes'
import { controlBackendOf, keyStatesOf } from './control/start'
import { createDashboardRepo } from './dashboard/repo'
import { createRequestsReader } from './dashboard/requests'
import { dashboardRoutes } from './dashboard/routes'
import { createDashboardService } from './dashboard/service'
import { docsRoutes } from './docs/routes'
import { healthRoutes } from './health/routes'
import { keysRoutes } from './keys/routes'
import { logRoutes } from './logs/routes'
import { createLogService } from './logs/service'
import { newsRoutes } from './news/routes'
import { createNewsService } from './news/service'
import { proxyRoutes } from './proxy/routes'
import { createReportsRepo } from './reports/repo'
import { reportRoutes } from './reports/routes'
import { createReportService } from './reports/service'
import { rotationRoutes } from './rotation/routes'
import { createRotationService } from './rotation/service'
import { settingsRoutes } from './settings/routes'
import { createCardsRepo } from './wallet/repo'
import type { Deps } from './deps'
import { AppError } from './shared/errors'
import { bodyShapeProblem } from './shared/json'
import { coerceNumbers, plainValidation } from './shared/validation'

/** Anthropic's surface answers errors in its own shape. */
export function isAnthropicPath(path: string): boolean {
  return path.startsWith('/v1/messages')
}

/** Anthropic's surface: its paths, and GET /v1/models… asked in its form (anthropic-version). */
export function anthropicSurface(path: string, headers: Headers): boolean {
  return isAnthropicPath(path) || (path.startsWith('/v1/models') && headers.has('anthropic-version'))
}

export function errorResponse(
  err: AppError,
  path: string,
  requestId?: string,
  anthropic = isAnthropicPath(path),
): Response {
  const body = anthropic ? err.toAnthropic() : err.toOpenAI()
  const headers: Record<string, string> = { 'content-type': 'application/json', ...err.headers }
  if (requestId) headers['x-request-id'] = requestId
  return new Response(JSON.stringify(body), { status: err.status, headers })
}

/** A validation error in plain words, naming the field in `param` and in the message. */
export function validationError(error: unknown, body?: unknown): AppError {
  const { param, message } = plainValidation(error, body)
  return new AppError('bad_request', message, { param })
}

/** Reasons that continue a sentence begun by the field's name: `Days must be …`. */
const READS_ON =
  /^(must|is|are|may|can|cannot|can't|should|needs?|has|have|was|were|does|do|takes?|sets?|allows?|maps?|names?|holds?|lies|goes|exceeds?|already|only)\b/

/**
 * `Field: why` (the form services use for bad input) read as a sentence: `Field why`. The
 * field is named in `param`, so the message can start with it.
 */
function inWords(err: AppError): AppError {
  const p = err.param
  if (err.code !== 'bad_request' || !p || !err.message.startsWith(`${p}: `)) return err
  const why = err.message.slice(p.length + 2)
  // `Bogus: unknown field` stays as it is; a reason that reads on from the name loses the colon.
  if (!READS_ON.test(why)) return err
  return new AppError(err.code, `${p} ${why}`, { param: p, headers: err.headers })
}

type RouteLike = { method: string; path: string }

/** A route pattern (`/x-users/:id`, `/v1/models/*`) as a whole-path regular expression. */
function patternOf(path: string): RegExp {
  const body = path
    .split('/')
    .map((seg) =>
      seg === '*' ? '.*' : seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
  return new RegExp(`^${body}/?$`)
}

/**
 * The methods a path answers, from the mounted routes; empty for an unknown path. Built on first
 * use, when every feature is mounted.
 */
export function methodIndex(routes: () => readonly RouteLike[]): (path: string) => string[] {
  let table: Array<{ re: RegExp; method: string }> | null = null
  return (path) => {
    table ??= routes().map((r) => ({ re: patternOf(r.path), method: r.method.toUpperCase() }))
    const out = new Set<string>()
    for (const r of table) if (r.re.test(path)) out.add(r.method)
    // HEAD is answered wherever GET is (the framework derives it), so Allow names it too.
    if (out.has('GET')) out.add('HEAD')
    return [...out].sort()
  }
}

/** 405 for a known path asked with another method: `Allow` names the ones it answers. */
export function methodNotAllowed(method: string, path: string, allow: string[]): AppError {
  const list = allow.join(', ')
  return new AppError('method_not_allowed', `${method} is not allowed on ${path}; use ${list}`, {
    headers: { allow: list },
  })
}

/** The parser's reason for a body that is not JSON, as ` (Expected '}')`; '' when it gives none. */
function parseReason(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause
  const why = cause instanceof Error ? cause.message.replace(/^JSON Parse error:\s*/, '').trim() : ''
  return why ? ` (${why})` : ''
}

function toAppError(code: string | number, error: unknown): AppError {
  if (error instanceof AppError) return inWords(error)
  switch (code) {
    case 'VALIDATION':
      return validationError(error)
    case 'PARSE':
      return new AppError('invalid_json', `request body is not valid JSON${parseReason(error)}`)
    case 'NOT_FOUND':
      return new AppError('not_found', 'no such route')
    case 'INVALID_FILE_TYPE':
      return new AppError('bad_request', 'invalid file type')
  }
  const status = (error as { status?: number })?.status
  if (status === 413) return new AppError('payload_too_large', 'request body too large')
  if (error instanceof StoreUnavailableError) {
    return new AppError('store_unavailable', 'the database is unreachable; try again shortly', {
      headers: { 'retry-after': '5' },
    })
  }
  return new AppError('internal_error', 'internal error')
}

/** Renders anything thrown on a route; unexpected errors are logged with their stack, never shown. */
export function renderThrown(
  deps: Deps,
  code: string | number,
  error: unknown,
  path: string,
  requestId?: string,
  anthropic?: boolean,
): Response {
  const err = toAppError(code, error)
  // A client leaving mid-upload is its own business: worth a line, not an error.
  if (err.code === 'client_closed') deps.log.info('upload aborted by the client', { path, requestId })
  else if (err.code === 'internal_error') {
    deps.log.error('unhandled error', {
      path,
      error: error instanceof Error ? error.message : String(error),
      stack: error instanceof Error ? error.stack : undefined,
    })
  }
  return errorResponse(err, path, requestId, anthropic)
}

/**
 * The services that only one room uses, built from the parts each names. Rooms are handed these
 * built, so a route's signature names services, never the store.
 */
function roomServices(deps: Deps) {
  const { sql: db, clock, flusher } = deps
  const { repo: lookup, auth } = deps.accounts
  const timeZone = deps.config.TZ!
  const dashboardRepo = createDashboardRepo(db)
  return {
    logs: createLogService(deps.oplog, deps.config.TZ),
    reports: createReportService({ repo: createReportsRepo(db), lookup, flusher, clock, timeZone }),
    news: createNewsService({ db, lookup, clock }),
    rotation: createRotationService({ db, lookup, auth, events: deps.events, clock, timeZone }),
    dashboard: createDashboardService({
      repo: dashboardRepo,
      accounts: lookup,
      cards: createCardsRepo(db),
      flusher,
      clock,
      timeZone,
      live: deps.accounts.service.live,
      limits: {
        windowUse: (key) => windowUse(deps, key),
        slotsInUse: deps.cluster && ((id) => sharedOrRefused(deps.cluster!.limits.slotsInUse(`a:${id}`, deps.clock.now()))),
        modelLimits: () => deps.settings.modelLimits(),
      },
    }),
    requests: createRequestsReader({
      repo: dashboardRepo,
      lookup,
      flusher,
      clock,
      retentionDays: deps.config.USAGE_RETENTION_DAYS,
    }),
  }
}

/** A read of the shared limit counters, or 503 while Redis is away. */
function sharedOrRefused<T>(p: Promise<T>): Promise<T> {
  return p.catch((e: Error) => {
    throw new AppError('store_unavailable', `the shared limit counters are unreachable: ${e.message}`, {
      headers: { 'retry-after': '5' },
    })
  })
}

/** A scope's window counts: this node's, or on several nodes the shared ones in Redis. */
function windowUse(deps: Deps, key: string) {
  const c = deps.cluster
  if (!c) return deps.limits.windows.usage(key)
  return sharedOrRefused(c.limits.usage(key, deps.clock.now()))
}

export function createApp(deps: Deps) {
  // Each room gets only the parts its signature names (health and proxy still take all of Deps).
  const { auth, tree, service: accountService } = deps.accounts
  // Who is calling, and whether the account and its ancestors are enabled: every admin room needs it.
  const callerParts = { auth, tree, requestMeta: deps.requestMeta }
  const built = roomServices(deps)
  const keyStates = keyStatesOf(deps)
  const methodsOf = methodIndex(() => app.routes)
  let bodySchemas: Map<string, Record<string, any> | undefined> | null = null
  const bodySchemaOf = (method: string, route: string) => {
    bodySchemas ??= new Map(
      app.routes.map((r) => [`${r.method} ${r.path}`, (r.hooks as { body?: Record<string, any> })?.body]),
    )
    return bodySchemas.get(`${method} ${route}`)
  }
  const app = new Elysia({ name: 'xgate' })
    .onError({ as: 'global' }, ({ code, error, request, path, body }) => {
      const allow = code === 'NOT_FOUND' ? methodsOf(path) : []
      const thrown = allow.length
        ? methodNotAllowed(request.method, path, allow)
        : code === 'VALIDATION'
          ? validationError(error, body)
          : error
      const id = deps.requestMeta.get(request)?.id
      return renderThrown(deps, code, thrown, path, id, anthropicSurface(path, request.headers))
    })
    .onTransform({ as: 'global' }, ({ body, request, route }) => {
      const problem = bodyShapeProblem(body)
      if (problem) throw new AppError('bad_request', `the request body is not accepted: ${problem}`, { param: 'body' })
      if (body && typeof body === 'object') coerceNumbers(bodySchemaOf(request.method, route), body)
    })
    .use(docsRoutes())
    .use(
      healthRoutes({ clock: deps.clock, startedAtMs: deps.startedAtMs, engine: deps.sql.engine, flusher: deps.flusher, cluster: deps.cluster }),
    )
    .use(accountRoutes({ auth, service: accountService, requestMeta: deps.requestMeta }))
    .use(logRoutes({ ...callerParts, logs: built.logs }))
    .use(keysRoutes({ ...callerParts, keys: deps.keys.service }))
    .use(reportRoutes({ ...callerParts, reports: built.reports }))
    .use(settingsRoutes({ ...callerParts, settings: deps.settings, clock: deps.clock }))
    .use(newsRoutes({ ...callerParts, news: built.news }))
    .use(rotationRoutes({ ...callerParts, rotation: built.rotation }))
    .use(dashboardRoutes({ ...callerParts, dashboard: built.dashboard, requests: built.requests }))
    .use(consoleRoutes())
    .use(
      proxyRoutes({
        proxy: deps.proxy,
        auth: deps.accounts.auth,
        pricing: deps.billing.pricing,
        pool: deps.keys.pool,
        startedAtMs: deps.startedAtMs,
      }),
    )
    .use(
      controlRoutes({
        ...callerParts,
        config: deps.config,
        log: deps.log,
        backend: controlBackendOf(deps),
        metrics: () => metricsSnapshot(deps, keyStates),
      }),
    )
  return app
}

export type App = ReturnType<typeof createApp>
