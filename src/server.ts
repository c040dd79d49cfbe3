// Starts and stops one gateway: store, deps, bootstrap, HTTP listener, flusher, signals-free.
// main.ts adds the signal handling; tests call startGateway() directly on port 0.
import type { Server } from 'bun'
import { bootstrap } from './accounts/bootstrap'
import { anthropicSurface, createApp, errorResponse, renderThrown } from './app'
import { ENDPOINTS, type Endpoint } from './proxy/endpoints'
import { bodyDueAt, setBodyDeadline } from './proxy/body'
import { type DueAt, pathOf, readAsJson, withinLimit } from './intake'
import { clientIp, trustedProxies } from './proxy/clientip'
import type { Config } from './config'
import { startControl } from './control/start'
import type { ControlServer } from './control/grpc'
import { startCheckpointer } from './db/checkpointer'
import { openConfigured, type Store } from './db/open'
import { buildDeps, type Deps, type DepsOverrides } from './deps'
import type { RequestMeta } from './shared/request-meta'
import { startUsagePruning } from './reports/prune'
import { createReportsRepo } from './reports/repo'
import { AppError } from './shared/errors'
import { newRequestId } from './shared/ids'

export type Gateway = {
  url: string
  port: number
  deps: Deps
  server: Server<unknown>
  /** Set when bootstrap generated a root key (empty database, no INIT_USERS). */
  generatedRootKey?: string
  /** The gRPC control listener, when API_SERVICES names any service. */
  control: ControlServer | null
  /** Graceful stop: stop accepting, let in-flight calls finish (bounded), flush, checkpoint, close. */
  stop(): Promise<void>
}

/** How often the checkpoint worker copies the WAL into the database file. */
const CHECKPOINT_INTERVAL_MS = 500

const ADMIN_BODY_PATHS = /^\/(x-|dashboard)/
/** Proxied POST paths skip the framework's router: one Map lookup, then the pipeline. */
const PROXY_PATHS = new Map<string, Endpoint>(ENDPOINTS.map((ep) => [ep.path, ep]))

export async function startGateway(
  config: Config,
  overrides: DepsOverrides = {},
): Promise<Gateway> {
  const trusted = trustedProxies(config.TRUST_PROXY)
  const store: Store = await openConfigured(config)
  let deps: Deps
  try {
    deps = await buildDeps(config, store, overrides)
  } catch (e) {
    await store.close()
    throw e
  }
  let generatedRootKey: string | undefined
  try {
    const boot = await bootstrap(store.sql, {
      initUsers: config.INIT_USERS,
      dataDir: config.DATA_DIR,
      nowMs: deps.clock.now(),
    })
    generatedRootKey = boot.generatedKey
  } catch (e) {
    await store.close()
    throw e
  }
  const app = createApp(deps)
  const handle = app.fetch

  /**
   * Every admin path needs a valid key, checked before the framework parses the body: a bad key is
   * 401 whatever the body holds, and an oversize body is 413 before it is read. Null = go on.
   */
  const admitAdmin = async (req: Request, path: string, id: string): Promise<Response | null> => {
    try {
      await deps.accounts.auth.authenticate(req.headers)
    } catch (e) {
      return renderThrown(deps, 'UNKNOWN', e, path, id)
    }
    if (Number(req.headers.get('content-length') ?? 0) > config.ADMIN_MAX_BODY_BYTES) {
      const msg = `request body over ${config.ADMIN_MAX_BODY_BYTES} bytes`
      return errorResponse(new AppError('payload_too_large', msg), path, id)
    }
    return null
  }

  // The access line is info: below that level its fields are not even built.
  const logRequests = config.LOG_LEVEL === 'info' || config.LOG_LEVEL === 'debug'

  /** Every request: `ep` is set for a proxied POST (then `path` is its path), else the framework. */
  const serve = async (
    req: Request,
    srv: Server<unknown>,
    path: string,
    ep: Endpoint | undefined,
  ): Promise<Response> => {
    const started = performance.now()
    const socketIp = srv.requestIP(req)?.address ?? ''
    const ip = clientIp(socketIp, req.headers.get('x-forwarded-for'), trusted)
    const meta: RequestMeta = { id: newRequestId(deps.clock.now()), ip }
    // The pipeline gets the meta directly; only framework routes look it up by request.
    if (!ep) deps.requestMeta.set(req, meta)
    // A scrape of /metrics is not a call: it must not count itself in the gauge it reports.
    const done = path === '/metrics' ? () => {} : deps.inFlight.begin()
    let res: Response
    try {
      const admin = !ep && ADMIN_BODY_PATHS.test(path)
      const limit = admin ? config.ADMIN_MAX_BODY_BYTES : config.MAX_BODY_BYTES
      // Admin paths check the key first (admitAdmin); then every body is held to its limit.
      const refused = admin ? await admitAdmin(req, path, meta.id) : null
      // A body arrives within BODY_TIMEOUT_MS (admin: whole; proxied: then at MIN_UPLOAD_RATE).
      const due: DueAt = admin
        ? () => started + config.BODY_TIMEOUT_MS
        : (bytes) => bodyDueAt(started, config.BODY_TIMEOUT_MS, bytes)
      // Proxied bodies: usually settled at once from Content-Length, awaited only when a body
      // without one must be read; admin bodies are read here, by their deadline.
      const within = refused ? null : withinLimit(req, limit, due, admin)
      let sized: Request | null = null
      let failed: unknown = null
      try {
        sized = within instanceof Promise ? await within : within
      } catch (e) {
        failed = e
      }
      if (sized && sized !== req && !ep) deps.requestMeta.set(sized, meta)
      if (admin && sized) readAsJson(sized)
      if (ep && sized === req && req.body) {
        setBodyDeadline(req, due(Number(req.headers.get('content-length') ?? 0)))
      }
      if (refused) res = refused
      else if (failed) res = renderThrown(deps, 'UNKNOWN', failed, path, meta.id)
      else if (!sized) {
        const err = new AppError('payload_too_large', `request body over ${limit} bytes`)
        res = errorResponse(err, path, meta.id)
      } else if (ep) {
        try {
          res = await deps.proxy.handle(sized, ep, meta)
        } catch (e) {
          res = renderThrown(deps, 'UNKNOWN', e, path, meta.id)
        }
      } else res = await handle(sized)
    } finally {
      // A streamed answer keeps its own begin() until its last byte; this one covers the handler.
      done()
    }
    // Proxied answers carry x-request-id already (clientHeaders, errorResponse); the rest gets it
    // here. The Anthropic SDKs read `request-id`: on that surface it is xgate's id too.
    const anthropic = ep ? ep.type === 'anthropic' : anthropicSurface(path, req.headers)
    const withoutId = !ep && !res.headers.has('x-request-id')
    if (anthropic || withoutId) {
      try {
        if (withoutId) res.headers.set('x-request-id', meta.id)
        if (anthropic) res.headers.set('request-id', meta.id)
      } catch {
        // Some responses have immutable headers; the id is then only in the log.
      }
    }
    if (logRequests)
      deps.log.info('request', {
        requestId: meta.id,
        method: req.method,
        path,
        status: res.status,
        accountId: meta.accountId,
        ip: meta.ip,
        latencyMs: Math.round((performance.now() - started) * 100) / 100,
      })
    return res
  }

  /** The proxied surfaces as Bun routes: matched natively, without building the request's URL. */
  const routes = Object.fromEntries(
    ENDPOINTS.map((ep) => [
      ep.path,
      { POST: (req: Request, srv: Server<unknown>) => serve(req, srv, ep.path, ep) },
    ]),
  )

  const server = Bun.serve({
    hostname: config.HOST,
    port: config.PORT,
    // The limits are enforced in serve() (withinLimit): Bun's own refusal is a bare 413 without
    // xgate's error shape, so it only stops what no limit of ours allows.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 255,
    routes,
    fetch(req, srv) {
      const path = pathOf(req.url)
      // Other methods and near-miss paths of the proxied surfaces come here.
      return serve(req, srv, path, req.method === 'POST' ? PROXY_PATHS.get(path) : undefined)
    },
    error(err) {
      const status = (err as { status?: number }).status
      const appErr =
        status === 413
          ? new AppError('payload_too_large', `request body over ${config.MAX_BODY_BYTES} bytes`)
          : new AppError('internal_error', 'internal error')
      return errorResponse(appErr, '')
    },
  })
  deps.flusher.start()
  let control: ControlServer | null = null
  try {
    control = await startControl(deps)
  } catch (e) {
    await server.stop(true)
    deps.flusher.stop()
    deps.cluster?.close()
    await store.close()
    throw e
  }
  // SQLite: WAL checkpoints run on a worker thread while serving (src/db/checkpointer.ts).
  const checkpointer = store.db
    ? await startCheckpointer(store.db, store.path, CHECKPOINT_INTERVAL_MS, deps.log)
    : null
  const stopPruning = startUsagePruning({
    repo: createReportsRepo(store.sql),
    clock: deps.clock,
    log: deps.log,
    retentionDays: config.USAGE_RETENTION_DAYS,
  })

  let stopping: Promise<void> | null = null
  const stop = () =>
    (stopping ??= (async () => {
      void server.stop(false)
      let timer: ReturnType<typeof setTimeout> | undefined
      const grace = new Promise<void>((r) => (timer = setTimeout(r, config.SHUTDOWN_GRACE_MS)))
      await Promise.race([deps.inFlight.idle(), grace])
      clearTimeout(timer)
      await server.stop(true)
      stopPruning()
      await control?.stop()
      await deps.limits.stop(config.SHUTDOWN_GRACE_MS)
      deps.flusher.stop()
      await deps.flusher.flushNow()
      deps.cluster?.close()
      deps.log.flush()
      await checkpointer?.stop()
      await store.close()
    })())

  return {
    url: `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${server.port}`,
    port: server.port!,
    deps,
    server,
    generatedRootKey,
    control,
    stop,
  }
}
