// The front door's handling of a request before any route: its path without a URL object, its body
// within the size limit and its deadline, and admin bodies read as JSON whatever their label.
import { byDeadline } from './proxy/body'

/** The path of a request URL without building a URL object (`http://host:port/p?q` → `/p`). */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start < 0) return '/'
  const q = url.indexOf('?', start)
  return q < 0 ? url.slice(start) : url.slice(start, q)
}

/** When a body of so many bytes must have arrived (performance.now() ms). */
export type DueAt = (bytes: number) => number

/**
 * The request with its body within `limit` bytes, or null when it is larger. A declared length
 * is trusted (HTTP framing holds the sender to it); a chunked body is read up to the limit and
 * handed on as bytes, so no body without a length slips past the limit. With `readWhole`, a body
 * is read here in any case (admin bodies, so that their deadline holds), each read by `due`.
 */
export function withinLimit(
  req: Request,
  limit: number,
  due?: DueAt,
  readWhole = false,
): Request | null | Promise<Request | null> {
  const declared = req.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) return null
  if (!req.body || (declared !== null && !readWhole) || declared === '0') return req
  return readWithin(req, limit, due)
}

/** A body read up to `limit` bytes, each read settled by its deadline (408 when late). */
async function readWithin(req: Request, limit: number, due?: DueAt): Promise<Request | null> {
  const reader = req.body!.getReader()
  const stop = () => void reader.cancel().catch(() => {})
  const parts: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await byDeadline(reader.read(), due?.(size), stop)
    if (done) break
    size += value.byteLength
    if (size > limit) {
      stop()
      return null
    }
    parts.push(value)
  }
  return new Request(req, { body: Buffer.concat(parts) })
}

/**
 * Admin bodies are JSON whatever their Content-Type: `curl -d '{…}'` labels its body as a form.
 * Only a request that carries a body is relabelled, so an empty DELETE stays bodiless.
 */
export function readAsJson(req: Request): void {
  const type = req.headers.get('content-type')
  if (type?.toLowerCase().includes('json')) return
  const length = req.headers.get('content-length')
  const hasBody = length !== null ? Number(length) > 0 : req.body !== null
  if (hasBody) req.headers.set('content-type', 'application/json')
}
