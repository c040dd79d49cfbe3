// Load generator of the reliability tests: workers calling a gateway (chat, streams, admin writes)
// and a record of what each client got and when, to hold against usage records and upstream tally.

export type CallKind = 'chat' | 'stream' | 'admin'

export type CallResult = {
  kind: CallKind
  /** Free text naming the call in assertion messages (account, admin operation). */
  label: string
  /** The gateway's x-request-id; null when no answer came back. */
  requestId: string | null
  /** HTTP status; 0 when the connection failed before an answer. */
  status: number
  /**
   * The client got the whole answer: a 2xx JSON body read to its end, or a stream that carried
   * `data: [DONE]` and then ended cleanly.
   */
  complete: boolean
  /** Parsed JSON of a non-stream answer (chat or admin), else null. */
  body: any
  /** Streams: the content deltas joined. */
  text: string
  /** Streams: a `data: [DONE]` event arrived. */
  sawDone: boolean
  /** Why the call did not complete, when it did not. */
  error: string | null
  startedAtMs: number
  /** When the last byte was read (or the call failed), in the test process's clock. */
  endedAtMs: number
}

function blank(kind: CallKind, label: string): CallResult {
  const now = Date.now()
  return {
    kind,
    label,
    requestId: null,
    status: 0,
    complete: false,
    body: null,
    text: '',
    sawDone: false,
    error: null,
    startedAtMs: now,
    endedAtMs: now,
  }
}

/** Reads an SSE body to its end; returns the content deltas and whether [DONE] went by. */
async function readSse(body: ReadableStream<Uint8Array>): Promise<{ text: string; done: boolean }> {
  const decoder = new TextDecoder()
  let carry = ''
  let text = ''
  let done = false
  const take = (line: string) => {
    if (!line.startsWith('data:')) return
    const data = line.slice(5).trim()
    if (data === '[DONE]') {
      done = true
      return
    }
    try {
      const ev = JSON.parse(data)
      const piece = ev?.choices?.[0]?.delta?.content
      if (typeof piece === 'string') text += piece
    } catch {
      // a torn event: the stream broke inside it
    }
  }
  const reader = body.getReader()
  for (;;) {
    const { value, done: ended } = await reader.read()
    if (ended) break
    carry += decoder.decode(value, { stream: true })
    let nl = carry.indexOf('\n')
    while (nl >= 0) {
      take(carry.slice(0, nl).replace(/\r$/, ''))
      carry = carry.slice(nl + 1)
      nl = carry.indexOf('\n')
    }
  }
  take(carry)
  return { text, done }
}

export type ChatOptions = {
  stream: boolean
  /** Goes into the user message; the fake upstream's behaviour can read it. */
  content?: string
  model?: string
  label?: string
  /** Hard limit for the whole call, so a test never waits forever. */
  timeoutMs?: number
}

/** One chat completion through the gateway, read to its end. Never throws. */
export async function chat(url: string, key: string, opts: ChatOptions): Promise<CallResult> {
  const r = blank(opts.stream ? 'stream' : 'chat', opts.label ?? '')
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: opts.model ?? 'gpt-4o-mini',
        messages: [{ role: 'user', content: opts.content ?? 'hi' }],
        stream: opts.stream,
      }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    })
    r.status = res.status
    r.requestId = res.headers.get('x-request-id')
    if (opts.stream && res.ok && res.body) {
      const sse = await readSse(res.body)
      r.text = sse.text
      r.sawDone = sse.done
      r.complete = sse.done
      if (!sse.done) r.error = 'stream ended without [DONE]'
    } else {
      const raw = await res.text()
      try {
        r.body = JSON.parse(raw)
      } catch {
        r.body = raw
      }
      r.complete = res.ok
      if (!res.ok) r.error = `status ${res.status}: ${raw.slice(0, 300)}`
    }
  } catch (e) {
    r.complete = false
    r.error = (e as Error).message
  }
  r.endedAtMs = Date.now()
  return r
}

/** One admin API call with a JSON body. Never throws. */
export async function admin(
  url: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  label = `${method} ${path}`,
): Promise<CallResult> {
  const r = blank('admin', label)
  try {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    })
    r.status = res.status
    r.requestId = res.headers.get('x-request-id')
    const raw = await res.text()
    try {
      r.body = JSON.parse(raw)
    } catch {
      r.body = raw
    }
    r.complete = res.ok
    if (!res.ok) r.error = `status ${res.status}: ${raw.slice(0, 300)}`
  } catch (e) {
    r.error = (e as Error).message
  }
  r.endedAtMs = Date.now()
  return r
}

export type LoadOptions = {
  /** Workers calling in parallel, each one call at a time. */
  concurrency: number
  /** The n-th call overall (0-based), made by `worker`. */
  task: (n: number, worker: number) => Promise<CallResult>
  /** Stop after this many calls have been started (default: until stop()). */
  maxCalls?: number
  /** A pause after each call, to keep the load steady rather than flat out. */
  pauseMs?: number
}

export type Load = {
  /** Every finished call so far, in order of completion. */
  readonly results: CallResult[]
  /** Calls started so far. */
  started(): number
  /** Resolves when every worker has ended (maxCalls reached or stop() called). */
  finished: Promise<CallResult[]>
  /** No new calls; waits for the ones in flight and returns every result. */
  stop(): Promise<CallResult[]>
}

export function startLoad(opts: LoadOptions): Load {
  const results: CallResult[] = []
  let next = 0
  let stopped = false
  const worker = async (w: number) => {
    while (!stopped && (opts.maxCalls === undefined || next < opts.maxCalls)) {
      const n = next++
      results.push(await opts.task(n, w))
      if (opts.pauseMs) await Bun.sleep(opts.pauseMs)
    }
  }
  const finished = Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w))).then(
    () => results,
  )
  return {
    results,
    started: () => next,
    finished,
    stop() {
      stopped = true
      return finished
    },
  }
}

/** Seeded PRNG (mulberry32) so fault patterns can be replayed from a printed seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
