// A fake OpenAI + Anthropic provider for tests and benchmarks: Bun.serve on 127.0.0.1, deterministic
// usage, configurable timing, injected faults per request, and a tally of what happened to each call.

import { ROUTES, errorResponse } from './fake-upstream-routes'
import { planBytes, type Plan, type ReplyContext } from './fake-upstream-sse'

/** What every reply is built from. Usage numbers are exact so tests can compute charges. */
export type FakeSettings = {
  /** Whole prompt as OpenAI counts it; on /v1/messages input_tokens = prompt − cached − cacheCreation. */
  promptTokens: number
  completionTokens: number
  /** Prompt tokens read from cache (OpenAI cached_tokens, Anthropic cache_read_input_tokens). */
  cachedTokens: number
  /** Anthropic cache_creation_input_tokens. */
  cacheCreationTokens: number
  /** The answer; streams split it into `chunks` deltas. */
  text: string
  /** Content deltas per stream (SSE) or parts of a binary body. */
  chunks: number
  chunkDelayMs: number
  /** Delay before the status line, for every reply including errors. */
  latencyMs: number
  /** JSON arguments of the tool call returned when a request offers tools. */
  toolArguments: string
  embeddingDimensions: number
  audioBytes: number
  models: string[]
}

/** What a behaviour function may return for one request: setting overrides and/or a fault. */
export type FakeReply = Partial<FakeSettings> & {
  /** Answer this status (500, 429, 401, 529…) with a provider-shaped error body. */
  status?: number
  /** Seconds, sent as Retry-After with `status`. */
  retryAfter?: number
  message?: string
  /**
   * Cut the connection after this many body writes (SSE events, byte parts, JSON halves).
   * 0 resets it before the status line: a network error before the first byte.
   */
  disconnectAfterChunks?: number
  /** Never answer; released when the client goes away or the server stops. */
  hang?: boolean
}

export type FakeRequestInfo = {
  /** 0-based order of arrival. */
  index: number
  method: string
  path: string
  /** Bearer token, bare Authorization value or x-api-key; '' when absent. */
  key: string
  headers: Record<string, string>
  body: unknown
}

export type BehaviorFn = (req: FakeRequestInfo) => FakeReply | undefined | void

/** `text`: a JSON body as received, byte for byte (to prove a passthrough). */
export type FakeCall = FakeRequestInfo & { bytes: number; text?: string }

export type Outcome = 'ok' | 'error' | 'disconnected' | 'aborted'
export type Counts = Record<Outcome | 'requests', number>
export type Tally = Counts & {
  inFlight: number
  byKey: Record<string, Counts>
  byPath: Record<string, number>
}

/** Settings, plus fault fields that then apply to every request until changed. */
export type FakeUpstreamOptions = FakeReply & {
  behavior?: BehaviorFn
  /** Recent calls kept in `calls`; 0 keeps none (benchmarks). */
  maxCalls?: number
  port?: number
}

export type FakeUpstream = {
  /** http://127.0.0.1:PORT; the OpenAI SDK's baseURL is url + '/v1', Anthropic's is url. */
  url: string
  port: number
  tally: Tally
  calls: FakeCall[]
  /** A function replaces the behaviour; an object is merged into the settings. */
  setBehavior(next: BehaviorFn | FakeReply | undefined): void
  reset(): void
  stop(): Promise<void>
}

const DEFAULTS: FakeSettings = {
  promptTokens: 12,
  completionTokens: 8,
  cachedTokens: 0,
  cacheCreationTokens: 0,
  text: 'Hello from the fake upstream.',
  chunks: 4,
  chunkDelayMs: 0,
  latencyMs: 0,
  toolArguments: '{"query":"fake"}',
  embeddingDimensions: 8,
  audioBytes: 1024,
  models: ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'claude-haiku-4-5'],
}

function emptyCounts(): Counts {
  return { requests: 0, ok: 0, error: 0, disconnected: 0, aborted: 0 }
}

function keyOf(headers: Headers): string {
  const auth = headers.get('authorization')
  if (auth) return auth.replace(/^Bearer\s+/i, '')
  return headers.get('x-api-key') ?? ''
}

async function readBody(
  req: Request,
): Promise<{ body: unknown; bytes: number; bad?: string; text?: string }> {
  if (req.method === 'GET' || req.method === 'HEAD') return { body: undefined, bytes: 0 }
  const raw = await req.arrayBuffer()
  const type = req.headers.get('content-type') ?? ''
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': type } }).formData()
    const fields: Record<string, unknown> = {}
    form.forEach((value, name) => {
      const file = value as unknown as File
      fields[name] =
        typeof value === 'string' ? value : { name: file.name, size: file.size, type: file.type }
    })
    return { body: fields, bytes: raw.byteLength }
  }
  if (raw.byteLength === 0) return { body: {}, bytes: 0 }
  const text = new TextDecoder().decode(raw)
  try {
    return { body: JSON.parse(text), bytes: raw.byteLength, text }
  } catch {
    return { body: undefined, bytes: raw.byteLength, bad: 'request body is not valid JSON' }
  }
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const { behavior: initialBehavior, maxCalls = 1000, port = 0, ...initial } = options
  let settings: FakeSettings & FakeReply = { ...DEFAULTS, ...initial }
  let behavior = initialBehavior
  let nextIndex = 0
  const calls: FakeCall[] = []
  const tally: Tally = { ...emptyCounts(), inFlight: 0, byKey: {}, byPath: {} }
  const releases = new Set<() => void>()

  /** Records how a request ended, exactly once. */
  function outcomeRecorder(key: string): (o: Outcome) => void {
    let done = false
    tally.inFlight++
    return (o) => {
      if (done) return
      done = true
      tally.inFlight--
      tally[o]++
      const perKey = (tally.byKey[key] ??= emptyCounts())
      perKey[o]++
    }
  }

  function stream(plan: Plan, reply: FakeSettings & FakeReply, finish: (o: Outcome) => void) {
    const { parts, contentType } = planBytes(plan)
    const iterator = parts[Symbol.iterator]()
    const cutAfter = reply.disconnectAfterChunks
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent > 0 && reply.chunkDelayMs > 0) await Bun.sleep(reply.chunkDelayMs)
        if (cutAfter !== undefined && sent >= cutAfter) {
          // Let the written chunks reach the socket first (generously: a loaded machine flushes
          // late); error() without a reason closes it abruptly (no terminating chunk), quietly.
          await Bun.sleep(30)
          finish('disconnected')
          controller.error()
          return
        }
        const next = iterator.next()
        if (next.done) {
          finish('ok')
          controller.close()
          return
        }
        controller.enqueue(next.value)
        sent++
      },
      cancel() {
        finish('aborted')
      },
    })
    const headers: Record<string, string> = { 'content-type': contentType }
    if (plan.kind === 'sse') headers['cache-control'] = 'no-cache'
    return new Response(body, {
      status: plan.kind === 'json' ? (plan.status ?? 200) : 200,
      headers,
    })
  }

  async function handle(req: Request): Promise<Response> {
    const index = nextIndex++
    const path = new URL(req.url).pathname
    const key = keyOf(req.headers)
    const read = await readBody(req)
    const { bytes, bad } = read
    const body = req.method === 'GET' ? {} : read.body
    const headers: Record<string, string> = {}
    req.headers.forEach((value, name) => {
      headers[name] = value
    })
    const info: FakeRequestInfo = { index, method: req.method, path, key, headers, body }
    if (maxCalls > 0) {
      calls.push({ ...info, bytes, text: read.text })
      if (calls.length > maxCalls) calls.shift()
    }
    tally.requests++
    tally.byPath[path] = (tally.byPath[path] ?? 0) + 1
    const perKey = (tally.byKey[key] ??= emptyCounts())
    perKey.requests++
    const finish = outcomeRecorder(key)

    const reply: FakeSettings & FakeReply = { ...settings, ...(behavior?.(info) ?? {}) }
    if (reply.hang) {
      return new Promise<Response>((resolve) => {
        const release = () => {
          releases.delete(release)
          finish('aborted')
          resolve(new Response(null, { status: 499 }))
        }
        releases.add(release)
        req.signal.addEventListener('abort', release)
      })
    }
    if (reply.latencyMs > 0) await Bun.sleep(reply.latencyMs)

    const route = ROUTES[`${req.method} ${path}`]
    let error: Response | undefined
    if (reply.status !== undefined && reply.status >= 400) {
      error = errorResponse(
        path,
        reply.status,
        reply.message ?? `fake ${reply.status}`,
        reply.retryAfter,
      )
    } else if (!route) error = errorResponse(path, 404, `no route ${req.method} ${path}`)
    else if (bad || typeof body !== 'object' || body === null) {
      error = errorResponse(path, 400, bad ?? 'request body must be a JSON object')
    }
    if (error) {
      finish('error')
      return error
    }
    const ctx: ReplyContext = {
      index,
      id: `fake${index}`,
      body: body as Record<string, unknown>,
      settings: reply,
      created: Math.floor(Date.now() / 1000),
    }
    const plan = route!(ctx)
    const response =
      plan.kind === 'json' && reply.disconnectAfterChunks === undefined
        ? Response.json(plan.body, { status: plan.status ?? 200 })
        : stream(plan, reply, finish)
    if (plan.kind === 'json' && reply.disconnectAfterChunks === undefined) finish('ok')
    const requestId = `req_fake_${index}`
    response.headers.set(path.startsWith('/v1/messages') ? 'request-id' : 'x-request-id', requestId)
    response.headers.set('x-fake-received-bytes', String(bytes))
    return response
  }

  const server = Bun.serve({ hostname: '127.0.0.1', port, idleTimeout: 0, fetch: handle })
  const boundPort = server.port ?? 0

  return {
    url: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    tally,
    calls,
    setBehavior(next) {
      if (typeof next === 'function' || next === undefined) behavior = next
      else settings = { ...settings, ...next }
    },
    reset() {
      calls.length = 0
      Object.assign(tally, emptyCounts(), { byKey: {}, byPath: {} })
    },
    async stop() {
      for (const release of [...releases]) release()
      await server.stop(true)
    },
  }
}
