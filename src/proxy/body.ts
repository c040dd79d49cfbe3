// Request bodies: JSON parsed once, with `model` (and `stream_options`) rewritten only when they
// change, so an unmapped body goes upstream as the very bytes received; multipart bodies are read
// only as far as their `model` field and then streamed through.
import { AppError } from '../shared/errors'
import type { Endpoint } from './endpoints'

export type ParsedBody = {
  json: Record<string, any> | null
  /** The model the client asked for (or the endpoint's default). */
  model: string
  stream: boolean
  /** True when the client asked for the usage chunk of a stream itself. */
  clientWantsUsage: boolean
  text: string | null
  multipart: MultipartHead | null
  contentType: string | null
}

export type MultipartHead = {
  head: Uint8Array
  rest: ReadableStreamDefaultReader<Uint8Array> | null
  valueStart: number
  valueEnd: number
  /** When the rest of the upload must have arrived (see bodyDueAt). */
  dueAtMs?: number
}

const MODEL_MAX = 256

/** After BODY_TIMEOUT_MS, a proxied upload must keep arriving at this rate (bytes per second). */
export const MIN_UPLOAD_RATE = 16 * 1024

/**
 * When a body must have arrived (performance.now() ms): `timeoutMs` after the request began,
 * plus, for a proxied upload, its bytes at MIN_UPLOAD_RATE.
 */
export function bodyDueAt(startedMs: number, timeoutMs: number, bytes: number): number {
  return startedMs + timeoutMs + (bytes * 1000) / MIN_UPLOAD_RATE
}

/** Proxied requests whose body has a deadline (set by the server before the pipeline runs). */
const dueAt = new WeakMap<Request, number>()

export function setBodyDeadline(request: Request, atMs: number): void {
  dueAt.set(request, atMs)
}

/**
 * A body read settled by its deadline: `p`, else a 408 (and `onLate`, to stop reading). A client
 * that closed its upload is a 499 `client_closed`, not an internal error.
 */
export function byDeadline<T>(p: Promise<T>, atMs: number | undefined, onLate?: () => void): Promise<T> {
  const read = p.catch((e) => {
    throw uploadError(e)
  })
  if (atMs === undefined) return read
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate?.()
      const msg = 'the request body did not arrive in time'
      reject(new AppError('request_timeout', msg, { headers: { connection: 'close' } }))
    }, Math.max(0, atMs - performance.now()))
  })
  return Promise.race([read, late]).finally(() => clearTimeout(timer))
}

/** A failed body read: the client leaving is its own code; anything else goes on as it is. */
export function uploadError(e: unknown): unknown {
  if (e instanceof AppError) return e
  if ((e as { name?: string })?.name === 'AbortError')
    return new AppError('client_closed', 'the client closed the connection during the upload')
  return e
}

/**
 * The parsed body: a promise only for multipart bodies; JSON bodies are parsed by parseJson() once
 * `request.text()` resolves, so the usual call takes no extra async step.
 */
export function readBody(request: Request, ep: Endpoint): Promise<ParsedBody> | Promise<string> {
  if (ep.multipart) return readMultipart(request, ep, request.headers.get('content-type'))
  return byDeadline(request.text(), dueAt.get(request))
}

/** A JSON request body's text, parsed and checked. */
export function parseJson(text: string, ep: Endpoint): ParsedBody {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new AppError('invalid_json', 'request body is not valid JSON')
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new AppError('bad_request', 'request body must be a JSON object')
  }
  const obj = json as Record<string, any>
  const model = obj.model ?? ep.defaultModel
  if (typeof model !== 'string' || model.length === 0 || model.length > MODEL_MAX) {
    throw new AppError('bad_request', 'model is required: the name of a model, at most 256 characters', { param: 'model' })
  }
  return {
    json: obj,
    model,
    stream: obj.stream === true,
    clientWantsUsage: obj.stream_options?.include_usage === true,
    text,
    multipart: null,
    contentType: 'application/json',
  }
}

/**
 * The JSON sent upstream. Unchanged bodies are the received text. Adding include_usage to a body
 * without stream_options is a splice at the opening brace, not a re-serialisation.
 */
export function upstreamJson(b: ParsedBody, mapped: string, addUsage: boolean): string {
  const json = b.json!
  const remodel = mapped !== json.model && !(json.model === undefined && mapped === b.model)
  if (!remodel && !addUsage) return b.text!
  if (!remodel && json.stream_options === undefined) {
    const at = b.text!.indexOf('{')
    return `{"stream_options":{"include_usage":true},${b.text!.slice(at + 1)}`
  }
  const copy: Record<string, unknown> = { ...json, model: mapped }
  if (addUsage) copy.stream_options = { ...(json.stream_options ?? {}), include_usage: true }
  return JSON.stringify(copy)
}

const enc = new TextEncoder()
const dec = new TextDecoder()

async function readMultipart(
  request: Request,
  ep: Endpoint,
  contentType: string | null,
): Promise<ParsedBody> {
  const m = contentType ? /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType) : null
  if (!m || !request.body)
    throw new AppError('bad_request', 'expected a multipart/form-data body with a boundary')
  const reader = request.body.getReader()
  const due = dueAt.get(request)
  const stop = () => void reader.cancel().catch(() => {})
  const field = enc.encode('name="model"')
  let head = new Uint8Array(0)
  let fieldAt = -1
  let done = false
  // Read until the model part and its value are complete (bounded by the server's body limit).
  for (;;) {
    if (fieldAt < 0) fieldAt = Buffer.from(head.buffer, head.byteOffset, head.length).indexOf(field)
    if (fieldAt >= 0) {
      const buf = Buffer.from(head.buffer, head.byteOffset, head.length)
      const start = buf.indexOf('\r\n\r\n', fieldAt)
      const end = start >= 0 ? buf.indexOf('\r\n--', start + 4) : -1
      if (end >= 0) {
        const model = dec.decode(head.subarray(start + 4, end)).trim()
        if (!model || model.length > MODEL_MAX) break
        return {
          json: null,
          model,
          stream: false,
          clientWantsUsage: false,
          text: null,
          contentType,
          multipart: {
            head,
            rest: done ? null : reader,
            valueStart: start + 4,
            valueEnd: end,
            dueAtMs: due,
          },
        }
      }
    }
    if (done) break
    const r = await byDeadline(reader.read(), due, stop)
    if (r.done) done = true
    else {
      const next = new Uint8Array(head.length + r.value.length)
      next.set(head, 0)
      next.set(r.value, head.length)
      head = next
    }
  }
  reader.cancel().catch(() => {})
  throw new AppError('bad_request', 'model is required in the multipart form', {
    param: 'model',
  })
}

/**
 * The multipart body for upstream: the head read so far (model value replaced when mapped), then
 * the rest of the client's upload as it arrives. A stream can be sent once; a copy of the head
 * alone allows a retry only when the whole body was already read.
 */
export function upstreamMultipart(
  h: MultipartHead,
  mapped: string,
  original: string,
): (attempt: number) => BodyInit | null {
  const head =
    mapped === original
      ? h.head
      : (() => {
          const v = enc.encode(mapped)
          const out = new Uint8Array(h.head.length - (h.valueEnd - h.valueStart) + v.length)
          out.set(h.head.subarray(0, h.valueStart), 0)
          out.set(v, h.valueStart)
          out.set(h.head.subarray(h.valueEnd), h.valueStart + v.length)
          return out
        })()
  if (!h.rest) return () => head as unknown as BodyInit
  const rest = h.rest
  return (attempt) => {
    if (attempt > 0) return null
    let sentHead = false
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        if (!sentHead) {
          sentHead = true
          c.enqueue(head)
          return
        }
        const r = await byDeadline(rest.read(), h.dueAtMs, () => void rest.cancel().catch(() => {}))
        if (r.done) c.close()
        else c.enqueue(r.value)
      },
      cancel() {
        rest.cancel().catch(() => {})
      },
    }) as unknown as BodyInit
  }
}
