// One call toward the providers, with failover before the first byte: keys of the level by
// weighted round-robin (TRIES_PER_LEVEL of them), then the SWITCH_OVER levels. 429 puts a key to
// sleep, 401/403 disables it, 5xx/529/network errors/timeouts count against it; other answers,
// 4xx included, go back to the client as they are.
import type { Clock } from '../shared/clock'
import type { DeadlineQueue } from '../shared/deadlines'
import { AppError } from '../shared/errors'
import type { Logger } from '../shared/log'
import type { Pool, PoolKey } from '../keys/pool'
import type { Endpoint } from './endpoints'
import { retryAfterMs, upstreamHeaders } from './headers'

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
 * `aborted` and aborts the attempt registered here (the fetch in flight, then its body).
 */
export type Cancel = { readonly aborted: boolean; attempt: AbortController | null }

export type Upstream =
  /** `json`: a JSON answer, already read whole (its `res` body is then used up). */
  | { ok: true; res: Response; key: PoolKey; json?: Uint8Array }
  | { ok: false; error: AppError | null; res: Response | null; key: PoolKey | null }

/** Reads at most `max` bytes of an error answer and releases the connection. */
async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0)
  const reader = res.body.getReader()
  const parts: Uint8Array[] = []
  let n = 0
  try {
    for (;;) {
      const r = await reader.read()
      if (r.done) break
      parts.push(r.value)
      n += r.value.length
      if (n >= max) break
    }
  } catch {
    // A broken error body still leaves its status.
  } finally {
    reader.cancel().catch(() => {})
  }
  const out = new Uint8Array(Math.min(n, max))
  let at = 0
  for (const p of parts) {
    const take = Math.min(p.length, out.length - at)
    out.set(p.subarray(0, take), at)
    at += take
  }
  return out
}

const isJson = (res: Response) => {
  const type = res.headers.get('content-type') ?? ''
  return type.includes('json') && !type.includes('text/event-stream')
}

/**
 * The provider's words for refusing a key, kept as the key's DisabledReason (shown by GET /x-keys,
 * stored, logged). Providers quote the key they refused: the secret, and any run of 8 or more of
 * its characters, is masked before anything is kept.
 */
export function reasonOf(status: number, body: Uint8Array, secret: string): string {
  let msg = ''
  try {
    const j = JSON.parse(new TextDecoder().decode(body))
    msg = String(j?.error?.message ?? j?.message ?? '')
  } catch {
    msg = ''
  }
  msg = msg
    .split(secret)
    .join('***')
    .replace(/[A-Za-z0-9_.-]{8,}/g, (t) => (secret.includes(t) ? '***' : t))
  return `upstream ${status}${msg ? `: ${msg.slice(0, 200)}` : ''}`
}

export async function forward(deps: UpstreamDeps, plan: UpstreamPlan): Promise<Upstream> {
  let last: { res: Response | null; error: AppError | null; key: PoolKey | null } = {
    res: null,
    error: null,
    key: null,
  }
  let attempt = 0
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
      const key = deps.pool.pick(level, plan.endpoint.type, tried)
      if (!key) {
        if (deps.pool.busy(level, plan.endpoint.type)) busy = level
        break
      }
      if (tried) tried.add(key.id)
      else first = key
      const body = plan.body(attempt++)
      if (body === null && attempt > 1) {
        deps.pool.done(key)
        return { ok: false, ...last }
      }
      const ctrl = new AbortController()
      cancel.attempt = ctrl
      const deadline = deps.firstByte.add(ctrl)
      let res: Response
      try {
        res = await deps.fetch(key.provider + plan.endpoint.path, {
          method: 'POST',
          headers: upstreamHeaders(plan.headers, key, plan.contentType),
          body,
          signal: ctrl.signal,
          redirect: 'manual',
          // @ts-ignore Bun: a streamed request body
          duplex: 'half',
        })
      } catch (e) {
        deps.firstByte.cancel(deadline)
        const timedOut = deadline.fired
        cancel.attempt = null
        deps.pool.done(key)
        if (cancel.aborted) return { ok: false, error: null, res: null, key }
        deps.pool.failed(key)
        const why = timedOut ? 'no answer in time' : (e as Error).message
        deps.log.warn('upstream attempt failed', { key: key.name, level, error: why })
        last = {
          key,
          res: null,
          error: timedOut
            ? new AppError('upstream_timeout', 'the upstream provider did not answer in time')
            : new AppError('upstream_error', 'the upstream provider could not be reached'),
        }
        continue
      }
      deps.firstByte.cancel(deadline)
      const s = res.status
      if (s < 400 || (s < 500 && s !== 429 && s !== 401 && s !== 403)) {
        // The answer's body still flows under this attempt's controller: it stays registered.
        if (!isJson(res)) return { ok: true, res, key }
        // A JSON answer is relayed only once whole, so one that breaks off has sent the client
        // nothing yet: a network error before the first byte, like any other (next key).
        let json: Uint8Array | null
        try {
          json = await res.bytes()
        } catch {
          json = null
        }
        if (json) return { ok: true, res, key, json }
        cancel.attempt = null
        deps.pool.done(key)
        if (cancel.aborted) return { ok: false, error: null, res: null, key }
        deps.pool.failed(key)
        deps.log.warn('upstream attempt failed', {
          key: key.name,
          level,
          error: 'answer broke off',
        })
        last = {
          key,
          res: null,
          error: new AppError('upstream_error', 'the upstream answer broke off'),
        }
        continue
      }
      cancel.attempt = null
      deps.pool.done(key)
      const errBody = await readCapped(res, ERROR_BODY_MAX)
      deps.pool.failed(key)
      if (s === 429)
        deps.pool.sleep(key, retryAfterMs(res.headers, deps.clock.now()) ?? DEFAULT_SLEEP_MS)
      if (s === 401 || s === 403) {
        deps.pool.disable(key, reasonOf(s, errBody, key.secret))
        // The client's own key is fine: an upstream refusal of ours is a gateway error to it.
        last = {
          key,
          res: null,
          error: new AppError('upstream_error', 'the upstream provider refused the gateway key'),
        }
      } else
        last = {
          key,
          res: new Response(errBody as unknown as BodyInit, { status: s, headers: res.headers }),
          error: null,
        }
      deps.log.warn('upstream attempt failed', { key: key.name, level, status: s })
    }
  }
  if (!last.res && !last.error && busy !== null) {
    last.error = new AppError(
      'keys_busy',
      `every upstream key for ${plan.endpoint.type} at level ${busy} is at its Concurrency; retry shortly`,
      { headers: { 'retry-after': '1' } },
    )
  }
  if (!last.res && !last.error) {
    last.error = new AppError(
      'no_available_key',
      `no upstream key available for ${plan.endpoint.type} at level ${plan.levels[0]}`,
    )
  }
  return { ok: false, ...last }
}
