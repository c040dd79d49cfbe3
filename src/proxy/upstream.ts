// One call toward the providers, with failover before the first byte: keys of the call's provider
// at the level by weighted round-robin (TRIES_PER_LEVEL of them), then the SWITCH_OVER levels.
// Each try is attempt → classify → apply the outcome: 429 puts a key to sleep, 401/403 disables
// it, 5xx/529/network errors/timeouts count against it; other answers, 4xx included, go back to
// the client. A translated call sends its translated body to its provider's path.
import type { Clock } from '../shared/clock'
import type { DeadlineQueue } from '../shared/deadlines'
import { AppError } from '../shared/errors'
import type { Logger } from '../shared/log'
import type { Pool, PoolKey } from '../keys/pool'
import type { Endpoint } from './endpoints'
import { retryAfterMs, upstreamHeaders } from './headers'
import { readCapped, reasonOf } from './providers/refusal'
import { routeFailure, type Route } from './translate/route'

const DEFAULT_SLEEP_MS = 60_000
const ERROR_BODY_MAX = 64 * 1024

export type UpstreamDeps = {
  pool: Pool
  fetch: typeof fetch
  clock: Clock
  log: Logger
  triesPerLevel: number
  /** The first-byte limit (FIRST_BYTE_TIMEOUT_MS) of each attempt. */
  firstByte: DeadlineQueue
}

export type UpstreamPlan = {
  endpoint: Endpoint
  /** Levels in the order to try: the call's level, then its SWITCH_OVER chain. */
  levels: number[]
  /** The body for one attempt (a stream can be given only once: later attempts get null). */
  body: (attempt: number) => BodyInit | null
  contentType: string | null
  headers: Headers
  /** The call's cancellation: the client left or the whole-call limit passed. */
  cancel: Cancel
}

/**
 * Cancellation shared by a call and its attempts, without event listeners: the call sets
 * `aborted` and aborts the attempt registered here (the fetch in flight, then its body). The
 * call also knows its route: null for a native call; it throws for a request with no translation.
 */
export type Cancel = {
  readonly aborted: boolean
  attempt: AbortController | null
  route?(): Route | null
}

export type Upstream =
  /**
   * `json`: a JSON answer, already read whole (its `res` body is then used up). `key` null: the
   * gateway answered itself (count_tokens for a model of the other provider).
   */
  | { ok: true; res: Response; key: PoolKey | null; json?: Uint8Array }
  /**
   * `bytes`: the body of `res` as read (to translate it for the client). `refused`: the request
   * itself could not be sent (no translation for one of its fields); no provider was contacted.
   */
  | {
      ok: false
      error: AppError | null
      res: Response | null
      key: PoolKey | null
      bytes?: Uint8Array
      refused?: boolean
    }

type Failed = Extract<Upstream, { ok: false }>

/** Where the attempts go: keys of `type`, `path` on their provider, `body` per attempt. */
type Target = {
  type: 'openai' | 'anthropic'
  path: string
  body: (attempt: number) => BodyInit | null
  translated: boolean
}

/** What one attempt came to. */
type Outcome =
  | { kind: 'answer'; res: Response; json?: Uint8Array }
  /** No usable answer before the first byte: the next key may do better (`why` for the log). */
  | { kind: 'failed'; error: AppError; why: string }
  /** The client left (or the whole-call limit passed) during the attempt. */
  | { kind: 'aborted' }
  /** 401/403: the provider refused our key. */
  | { kind: 'refused'; status: number; body: Uint8Array }
  /** 429, 5xx: the answer is kept in case no later try does better. */
  | { kind: 'retry'; status: number; res: Response; body: Uint8Array }

type Verdict = 'answer' | 'retry' | 'refused'

/** The failover class of an upstream status. */
export function classify(status: number): Verdict {
  if (status === 401 || status === 403) return 'refused'
  if (status === 429 || status >= 500) return 'retry'
  return 'answer'
}

const isJson = (res: Response) => {
  const type = res.headers.get('content-type') ?? ''
  return type.includes('json') && !type.includes('text/event-stream')
}

/** One try on one key: the fetch, its first byte within FIRST_BYTE_TIMEOUT_MS, a JSON body whole. */
async function attempt(
  deps: UpstreamDeps,
  plan: UpstreamPlan,
  target: Target,
  key: PoolKey,
  body: BodyInit | null,
): Promise<Outcome> {
  const cancel = plan.cancel
  const ctrl = new AbortController()
  cancel.attempt = ctrl
  const deadline = deps.firstByte.add(ctrl)
  let res: Response
  try {
    res = await deps.fetch(key.provider + target.path, {
      method: 'POST',
      headers: upstreamHeaders(plan.headers, key, plan.contentType, target.translated),
      body,
      signal: ctrl.signal,
      redirect: 'manual',
      // @ts-ignore Bun: a streamed request body
      duplex: 'half',
    })
  } catch (e) {
    deps.firstByte.cancel(deadline)
    cancel.attempt = null
    if (cancel.aborted) return { kind: 'aborted' }
    return deadline.fired
      ? {
          kind: 'failed',
          error: new AppError('upstream_timeout', 'the upstream provider did not answer in time'),
          why: 'no answer in time',
        }
      : {
          kind: 'failed',
          error: new AppError('upstream_error', 'the upstream provider could not be reached'),
          why: (e as Error).message,
        }
  }
  deps.firstByte.cancel(deadline)
  const verdict = classify(res.status)
  if (verdict === 'answer') {
    // The answer's body still flows under this attempt's controller: it stays registered.
    if (!isJson(res)) return { kind: 'answer', res }
    // A JSON answer is relayed only once whole, so one that breaks off has sent the client
    // nothing yet: a network error before the first byte, like any other (next key).
    const json = await res.bytes().catch(() => null)
    if (json) return { kind: 'answer', res, json }
    cancel.attempt = null
    if (cancel.aborted) return { kind: 'aborted' }
    return {
      kind: 'failed',
      error: new AppError('upstream_error', 'the upstream answer broke off'),
      why: 'answer broke off',
    }
  }
  cancel.attempt = null
  const errBody = await readCapped(res, ERROR_BODY_MAX)
  return verdict === 'refused'
    ? { kind: 'refused', status: res.status, body: errBody }
    : { kind: 'retry', status: res.status, res, body: errBody }
}

/**
 * What an outcome does to the key and to the call: the final answer (returned), or the failure
 * kept as the call's last one before the next try (null returned).
 */
function applyOutcome(
  deps: UpstreamDeps,
  o: Outcome,
  key: PoolKey,
  level: number,
  last: Failed,
): Upstream | null {
  if (o.kind === 'answer') return { ok: true, res: o.res, key, json: o.json }
  deps.pool.done(key)
  if (o.kind === 'aborted') return { ok: false, error: null, res: null, key }
  deps.pool.failed(key)
  last.key = key
  if (o.kind === 'failed') {
    deps.log.warn('upstream attempt failed', { key: key.name, level, error: o.why })
    last.res = null
    last.bytes = undefined
    last.error = o.error
    return null
  }
  deps.log.warn('upstream attempt failed', { key: key.name, level, status: o.status })
  if (o.kind === 'refused') {
    deps.pool.disable(key, reasonOf(o.status, o.body, key.secret))
    // The client's own key is fine: an upstream refusal of ours is a gateway error to it.
    last.res = null
    last.bytes = undefined
    last.error = new AppError('upstream_error', 'the upstream provider refused the gateway key')
    return null
  }
  if (o.status === 429)
    deps.pool.sleep(key, retryAfterMs(o.res.headers, deps.clock.now()) ?? DEFAULT_SLEEP_MS)
  last.res = new Response(o.body as unknown as BodyInit, {
    status: o.status,
    headers: o.res.headers,
  })
  last.bytes = o.body
  last.error = null
  return null
}

/** The call's target: its route's provider, path and translated body, or its own endpoint's. */
function targetOf(plan: UpstreamPlan): Target | Upstream {
  let route: Route | null
  try {
    route = plan.cancel.route?.() ?? null
  } catch (e) {
    return { ok: false, error: routeFailure(e), res: null, key: null, refused: true }
  }
  if (!route) {
    const ep = plan.endpoint
    return { type: ep.surface, path: ep.path, body: plan.body, translated: false }
  }
  if (route.local) {
    const headers = { 'content-type': 'application/json' }
    return { ok: true, res: new Response(null, { headers }), key: null, json: route.local }
  }
  const json = route.body!
  return { type: route.provider, path: route.path, body: () => json, translated: true }
}

export async function forward(deps: UpstreamDeps, plan: UpstreamPlan): Promise<Upstream> {
  const target = targetOf(plan)
  if ('ok' in target) return target
  const last: Failed = { ok: false, res: null, error: null, key: null }
  let attempts = 0
  /** A level whose keys were all at their Concurrency (then the client may retry shortly). */
  let busy: number | null = null
  const cancel = plan.cancel
  for (const level of plan.levels) {
    // Most calls take the first key: the set of keys tried is made only for a second try.
    let first: PoolKey | null = null
    let tried: Set<number> | undefined
    for (let t = 0; t < deps.triesPerLevel; t++) {
      if (cancel.aborted) return { ok: false, error: null, res: null, key: last.key }
      if (first && !tried) tried = new Set([first.id])
      const key = deps.pool.pick(level, target.type, tried)
      if (!key) {
        if (deps.pool.busy(level, target.type)) busy = level
        break
      }
      if (tried) tried.add(key.id)
      else first = key
      const body = target.body(attempts++)
      if (body === null && attempts > 1) {
        deps.pool.done(key)
        return last
      }
      const done = applyOutcome(
        deps,
        await attempt(deps, plan, target, key, body),
        key,
        level,
        last,
      )
      if (done) return done
    }
  }
  if (!last.res && !last.error && busy !== null) {
    last.error = new AppError(
      'keys_busy',
      `every upstream key for ${target.type} at level ${busy} is at its Concurrency; retry shortly`,
      { headers: { 'retry-after': '1' } },
    )
  }
  if (!last.res && !last.error) {
    const why = target.translated ? ` (model served in the ${target.type} format)` : ''
    last.error = new AppError(
      'no_available_key',
      `no upstream key available for ${target.type} at level ${plan.levels[0]}${why}`,
    )
  }
  return last
}
