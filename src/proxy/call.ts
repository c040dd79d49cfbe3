// One admitted call from the upstream request to settlement: the whole-call timer, the client's
// disconnect, the in-flight mark held until the last byte, the relay of the answer and exactly one
// settlement whether the call ends, fails or is cancelled.
import type { Account } from '../accounts/repo'
import type { ResolvedPrice } from '../billing/pricing'
import type { CallSummary, Settler } from '../billing/settle'
import type { InFlight } from '../shared/inflight'
import type { Clock } from '../shared/clock'
import type { Deadline, DeadlineQueue } from '../shared/deadlines'
import { AppError } from '../shared/errors'
import type { ParsedBody } from './body'
import type { Endpoint } from './endpoints'
import type { LimitsGate, LimitTicket } from './gate'
import { clientHeaders } from './headers'
import { Meter, tailUsage, type Tokenizer } from './meter'
import { anthropicBody, anthropicEvent } from './providers/anthropic'
import { openaiBody, openaiEvent } from './providers/openai'
import { relay, type RelayEnd } from './stream'
import type { Cancel, Upstream } from './upstream'
import type { Pool, PoolKey } from '../keys/pool'
import type { Hold, Holds } from '../wallet/holds'

export type CallDeps = {
  clock: Clock
  inFlight: InFlight
  settler: Settler
  gate: LimitsGate
  holds: Pick<Holds, 'settle'>
  /** Gives the upstream key's slot back (its Concurrency). */
  keys: Pick<Pool, 'done'>
  tokenizer: Tokenizer
  /** The whole-call limit (UPSTREAM_TIMEOUT_MS). */
  deadlines: DeadlineQueue
  /** Calls still running after a short while start listening for their client leaving. */
  watch: DeadlineQueue<Call>
  /** Marks the client address online for the account until the call settles. */
  online?: (accountName: string, ip: string) => () => void
}

export type CallFacts = {
  requestId: string
  clientIp: string
  startedAtMs: number
  account: Account
  endpoint: Endpoint
  body: ParsedBody
  mappedModel: string
  price: ResolvedPrice | undefined
  ticket: LimitTicket
  /** The money set aside at admission; settlement closes it with the real cost. */
  hold: Hold
  uplinkBytes: number
}

/**
 * Bodies up to PARSE_FIRST_MAX are parsed whole at once (measured: faster than finding the usage
 * object in a 500-byte chat answer); larger ones have their usage object near the end read first,
 * and are parsed whole up to PARSE_WHOLE_MAX only when it is missing (to estimate).
 */
const PARSE_FIRST_MAX = 4 * 1024
const PARSE_WHOLE_MAX = 256 * 1024
const CLIENT_CLOSED = 499
const decoder = new TextDecoder()

/** OpenAI makes at most 10 images per call; a larger `n` is refused there, never made. */
export const MAX_IMAGES_PER_CALL = 10

/**
 * The images a call is billed for: the requested `n` as a whole number from 1 to 10. Billing a
 * raw `n` let one request with `n: 1e300` put its account millions of dollars in debt.
 */
export function imagesAsked(n: unknown): number {
  const v = Math.floor(Number(n ?? 1))
  return Number.isFinite(v) ? Math.min(MAX_IMAGES_PER_CALL, Math.max(1, v)) : 1
}

export class Call implements Cancel {
  /** The client left or the whole-call limit passed; `attempt` is the upstream fetch to stop. */
  aborted = false
  attempt: AbortController | null = null
  readonly meter: Meter
  private settled = false
  private readonly doneInFlight: () => void
  private readonly offline: (() => void) | undefined
  private readonly deadline: Deadline
  private readonly watched: Deadline<Call>
  private status = 0
  private keyId: number | null = null
  private keyName: string | null = null
  /** The key whose slot this call holds from the answer's first byte to settlement. */
  private key: PoolKey | null = null
  private ttfbMs: number | null = null
  private hideUsage = false

  constructor(
    private readonly deps: CallDeps,
    private readonly f: CallFacts,
    private readonly client: Request | null,
  ) {
    this.meter = new Meter(deps.tokenizer)
    this.doneInFlight = deps.inFlight.begin()
    this.offline = deps.online?.(f.account.name, f.clientIp)
    this.deadline = deps.deadlines.add(this)
    this.watched = deps.watch.add(this)
  }

  /**
   * Called by the watch queue when the call is still running after a short while: from then on
   * the client leaving aborts it. A client that already left shows as an aborted signal. Short
   * calls never build the signal; a streamed answer also stops when its client cancels it.
   */
  watchClient(): void {
    if (this.settled || this.aborted || !this.client) return
    const signal = this.client.signal
    if (signal.aborted) this.abort()
    // The signal is the client's own request's: nothing else handles its abort event.
    else signal.onabort = () => this.abort()
  }

  /** Stops the call: the upstream fetch (or its body) in flight is aborted. */
  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.attempt?.abort()
  }

  /** The answer the client gets when no upstream answered usefully; settles the call. */
  fail(up: Extract<Upstream, { ok: false }>): Response {
    if (up.key) {
      this.keyId = up.key.id
      this.keyName = up.key.name
    }
    if (this.aborted && !up.res && !up.error) {
      this.settle(CLIENT_CLOSED, 'cancel', 0)
      return new Response(null, {
        status: CLIENT_CLOSED,
        headers: { 'x-request-id': this.f.requestId },
      })
    }
    if (up.res) {
      this.settle(up.res.status, 'end', 0)
      return new Response(up.res.body, {
        status: up.res.status,
        headers: clientHeaders(up.res.headers, this.f.requestId),
      })
    }
    const err = up.error ?? new AppError('no_available_key', 'no upstream key available')
    this.settle(err.status, 'end', 0, !up.key)
    throw err
  }

  /** Relays the upstream answer; settlement happens at its last byte (or cancel, or error). */
  respond(up: Extract<Upstream, { ok: true }>, hideUsage: boolean): Response {
    const res = up.res
    this.status = res.status
    this.keyId = up.key.id
    this.keyName = up.key.name
    this.key = up.key
    this.ttfbMs = this.deps.clock.now() - this.f.startedAtMs
    this.hideUsage = hideUsage
    const headers = clientHeaders(res.headers, this.f.requestId)
    if (up.json) return this.respondJson(res.status, up.json, headers)
    const sse = (res.headers.get('content-type') ?? '').includes('text/event-stream')
    if (!res.body) {
      this.settle(res.status, 'end', 0)
      return new Response(null, { status: res.status, headers })
    }
    if (sse) {
      const anthropic = this.f.endpoint.type === 'anthropic'
      const stream = relay(
        res.body,
        {
          onEvent: anthropic
            ? (d) => anthropicEvent(d, this.meter)
            : (d) => openaiEvent(d, this.meter, this.hideUsage),
          canDrop: hideUsage,
          onEnd: (how, bytes) => this.settle(this.status, how, bytes),
        },
        () => this.attempt?.abort(),
      )
      return new Response(stream, { status: res.status, headers })
    }
    const stream = relay(
      res.body,
      { onEnd: (how, bytes) => this.settle(this.status, how, bytes) },
      () => this.attempt?.abort(),
    )
    return new Response(stream, { status: res.status, headers })
  }

  /** A JSON answer, read whole by forward(): usage taken from it, settled, sent on. */
  private respondJson(status: number, buf: Uint8Array, headers: Headers): Response {
    if (status < 400) this.readJson(buf)
    this.settle(status, 'end', buf.length)
    // An empty body goes as null: a 204 may not carry a body, and on the wire the two are the same.
    const body = buf.length ? (buf as unknown as BodyInit) : null
    return new Response(body, { status, headers })
  }

  /** Small answers parsed whole; larger ones by their usage object near the end (see above). */
  private readJson(buf: Uint8Array): void {
    let obj: Record<string, unknown> | null = buf.length <= PARSE_FIRST_MAX ? null : tailUsage(buf)
    if (!obj?.usage && buf.length <= PARSE_WHOLE_MAX) {
      try {
        obj = JSON.parse(decoder.decode(buf))
      } catch {
        obj = null
      }
    }
    if (!obj || typeof obj !== 'object') return
    if (this.f.endpoint.type === 'anthropic') anthropicBody(obj, this.meter)
    else openaiBody(obj, this.meter)
  }

  /** Exactly once per call. `release`: nothing reached a provider, so limits get it back. */
  settle(status: number, how: RelayEnd, downlinkBytes: number, release = false): void {
    if (this.settled) return
    this.settled = true
    this.deps.deadlines.cancel(this.deadline)
    this.deps.watch.cancel(this.watched)
    const f = this.f
    // SDKs close the connection right after [DONE]: that is not a client leaving early.
    const whole = this.meter.ended || this.meter.complete
    const clientGone = !whole && (how === 'cancel' || (how === 'error' && this.aborted))
    const finalStatus = clientGone && status < 400 ? CLIENT_CLOSED : status
    const { usage, estimated } = this.usageOf(status)
    const summary: CallSummary = {
      requestId: f.requestId,
      startedAtMs: f.startedAtMs,
      account: f.account,
      keyId: this.keyId,
      keyName: this.keyName,
      endpoint: f.endpoint.path,
      surface: f.endpoint.type,
      model: f.body.model,
      mappedModel: f.mappedModel,
      status: finalStatus,
      ttfbMs: this.ttfbMs,
      clientIp: f.clientIp,
      price: f.price,
      usage,
      estimated,
      uplinkBytes: f.uplinkBytes,
      downlinkBytes,
    }
    let costNano = 0
    try {
      const record = this.deps.settler.settle(summary)
      costNano = record.costNano
      if (release) this.deps.gate.release(f.ticket)
      else
        this.deps.gate.settle(f.ticket, {
          totalTokens: record.totalTokens,
          costNano: record.costNano,
        })
    } finally {
      // The charge is queued on the ledger above: the hold it replaces is closed after it.
      this.deps.holds.settle(f.hold, costNano)
      if (this.key) this.deps.keys.done(this.key)
      this.offline?.()
      this.doneInFlight()
    }
  }

  /** Reported usage; for a successful call without it, an estimate when tokens are priced. */
  private usageOf(status: number): { usage: CallSummary['usage']; estimated: boolean } {
    const ep = this.f.endpoint
    const images =
      ep.kind === 'images' && status < 400 ? imagesAsked(this.f.body.json?.n) : undefined
    if (ep.free) return { usage: null, estimated: false }
    const p = this.f.price?.nano
    const tokenPriced = !p || p.inputPerM > 0n || p.outputPerM > 0n
    if (status >= 400 || !tokenPriced) {
      const u = this.meter.usage
      return {
        usage: u
          ? { ...u, images }
          : images
            ? { promptTokens: 0, completionTokens: 0, cachedTokens: 0, images }
            : null,
        estimated: false,
      }
    }
    const final = this.meter.final(this.f.body.json)
    return images === undefined
      ? final
      : { usage: { ...final.usage, images }, estimated: final.estimated }
  }
}
