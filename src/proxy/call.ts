// One admitted call from the upstream request to settlement: the whole-call timer, the client's
// disconnect, the in-flight mark held until the last byte, the relay of the answer (translated to
// the client's dialect when its model's provider speaks the other) and exactly one settlement
// whether the call ends, fails or is cancelled.
import type { Account } from '../accounts/repo'
import type { ResolvedPrice } from '../billing/pricing'
import { usageOf } from '../billing/rules'
import type { CallSummary, Settler } from '../billing/settle'
import type { InFlight } from '../shared/inflight'
import type { Clock } from '../shared/clock'
import type { Deadline, DeadlineQueue } from '../shared/deadlines'
import { AppError } from '../shared/errors'
import type { ParsedBody } from './body'
import type { Endpoint } from './endpoints'
import type { LimitsGate, LimitTicket } from './gate'
import { clientHeaders } from './headers'
import { Meter, meterAnswer, meterObject, type Tokenizer } from './meter'
import { anthropicEvent } from './providers/anthropic'
import { openaiEvent } from './providers/openai'
import { relay, type RelayEnd } from './stream'
import { callRoute, DROPPED_HEADER, type ProviderOf, type Route } from './translate/route'
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
  /** The provider of a mapped model (MODEL_PROVIDERS, then the catalogue). */
  providerOf?: ProviderOf
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

const CLIENT_CLOSED = 499

export { imagesAsked, MAX_IMAGES_PER_CALL } from '../billing/rules'

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
  /** undefined until route() ran; null for a native call. */
  private routed: Route | null | undefined

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

  /** Where the call goes (forward() asks once): null when native; throws a 400 if untranslatable. */
  route(): Route | null {
    if (this.routed === undefined)
      this.routed = callRoute(this.f, this.deps.providerOf, this.deps.tokenizer)
    return this.routed
  }

  /** The upstream's dialect: the route's provider, else the surface's. */
  private get dialect(): 'openai' | 'anthropic' {
    return this.routed?.provider ?? this.f.endpoint.surface
  }

  /** Stops the call: the upstream fetch (or its body) in flight is aborted. */
  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.attempt?.abort()
  }

  /** The answer the client gets when no upstream answered usefully; settles the call. */
  fail(up: Extract<Upstream, { ok: false }>): Response {
    if (up.refused && up.error) this.refuse(up.error)
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
      const headers = clientHeaders(up.res.headers, this.f.requestId)
      const t = this.routed?.translation
      if (t) return this.sendTranslated(t.error(up.bytes, up.res.status), headers, 0)
      this.settle(up.res.status, 'end', 0)
      return new Response(up.res.body, { status: up.res.status, headers })
    }
    const err = up.error ?? new AppError('no_available_key', 'no upstream key available')
    this.settle(err.status, 'end', 0, !up.key)
    throw err
  }

  /** Relays the upstream answer; settlement happens at its last byte (or cancel, or error). */
  respond(up: Extract<Upstream, { ok: true }>, hideUsage: boolean): Response {
    const res = up.res
    this.status = res.status
    this.keyId = up.key?.id ?? null
    this.keyName = up.key?.name ?? null
    this.key = up.key
    this.ttfbMs = this.deps.clock.now() - this.f.startedAtMs
    const route = this.routed ?? null
    // A translated stream's usage chunk is for the translator, never relayed as it is.
    this.hideUsage = route ? false : hideUsage
    const headers = clientHeaders(res.headers, this.f.requestId)
    const dropped = route?.translation.dropped
    if (dropped) headers.set(DROPPED_HEADER, dropped)
    if (up.json) {
      if (!route || route.local) return this.respondJson(res.status, up.json, headers)
      const read = (obj: Record<string, unknown>) => meterObject(obj, this.dialect, this.meter)
      const out = route.translation.body(up.json, res.status, read)
      return this.sendTranslated(out, headers, up.json.length)
    }
    const sse = (res.headers.get('content-type') ?? '').includes('text/event-stream')
    if (!res.body) {
      this.settle(res.status, 'end', 0)
      return new Response(null, { status: res.status, headers })
    }
    if (sse) {
      const anthropic = this.dialect === 'anthropic'
      const stream = relay(
        res.body,
        {
          onEvent: anthropic
            ? (d) => anthropicEvent(d, this.meter)
            : (d) => openaiEvent(d, this.meter, this.hideUsage),
          canDrop: this.hideUsage,
          rewrite: route?.translation.stream(),
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
    if (status < 400) meterAnswer(buf, this.dialect, this.meter)
    this.settle(status, 'end', buf.length)
    // An empty body goes as null: a 204 may not carry a body, and on the wire the two are the same.
    const body = buf.length ? (buf as unknown as BodyInit) : null
    return new Response(body, { status, headers })
  }

  /** A translated JSON answer or error, in the client's dialect; `upBytes`: what was read. */
  private sendTranslated(out: { status: number; bytes: Uint8Array }, h: Headers, upBytes: number) {
    this.status = out.status
    h.set('content-type', 'application/json')
    this.settle(out.status, 'end', upBytes)
    return new Response(out.bytes as unknown as BodyInit, { status: out.status, headers: h })
  }

  /**
   * Bad input found after admission (a field with no translation): undone like a refusal before
   * it — limits and hold given back, no usage record, nothing billed — and thrown to the client.
   */
  private refuse(err: AppError): never {
    this.settle(err.status, 'end', 0, true, false)
    throw err
  }

  /**
   * Exactly once per call. `release`: nothing reached a provider, so limits get it back;
   * `record` false: nor is the call recorded (its request was refused).
   */
  settle(status: number, how: RelayEnd, downlinkBytes: number, release = false, record = true) {
    if (this.settled) return
    this.settled = true
    this.deps.deadlines.cancel(this.deadline)
    this.deps.watch.cancel(this.watched)
    const f = this.f
    if (!record) {
      this.deps.gate.release(f.ticket)
      this.deps.holds.settle(f.hold, 0)
      return this.done()
    }
    // SDKs close the connection right after [DONE]: that is not a client leaving early.
    const whole = this.meter.ended || this.meter.complete
    const clientGone = !whole && (how === 'cancel' || (how === 'error' && this.aborted))
    const finalStatus = clientGone && status < 400 ? CLIENT_CLOSED : status
    const ep = f.endpoint
    const { usage, estimated } = usageOf(
      { kind: ep.kind, free: ep.free, status, json: f.body.json, price: f.price },
      this.meter,
    )
    const summary: CallSummary = {
      requestId: f.requestId,
      startedAtMs: f.startedAtMs,
      account: f.account,
      keyId: this.keyId,
      keyName: this.keyName,
      endpoint: f.endpoint.path,
      surface: f.endpoint.surface,
      provider: this.dialect,
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
      this.done()
    }
  }

  /** The call's marks cleared: its key's slot, its address online, its place in flight. */
  private done(): void {
    if (this.key) this.deps.keys.done(this.key)
    this.offline?.()
    this.doneInFlight()
  }
}
