// Relays an upstream body to the client chunk by chunk, with backpressure (nothing is read ahead
// of the client) and bounded memory whatever the length. SSE relays hand every `data:` payload to
// the meter; when an event may have to be hidden, only whole events are forwarded; a translated
// stream has each whole event's bytes replaced by the client's.
export type RelayEnd = 'end' | 'cancel' | 'error'

export type RelayHooks = {
  /** Sees each SSE data payload; returning true drops its event (only when `canDrop`). */
  onEvent?(data: string): boolean
  canDrop?: boolean
  /**
   * Replaces each whole event by what `event` returns for its data payload ('' for nothing);
   * `end` adds the last bytes when the upstream body ends. The meter (onEvent) still sees each
   * upstream payload first.
   */
  rewrite?: { event(data: string): string; end(): string }
  /** Runs exactly once, when the body ended, failed or the client went away. */
  onEnd(how: RelayEnd, bytes: number): void
}

/** One SSE line or held event above this is forwarded without being inspected. */
const MAX_HELD_BYTES = 1024 * 1024
/** A translated stream cannot forward an event it did not read: it holds up to this, then ends. */
const MAX_REWRITE_BYTES = 16 * 1024 * 1024

const encoder = new TextEncoder()

/** Index just past the last blank line (`\n\n` or `\n\r\n`), or -1. */
function lastBoundary(b: Uint8Array): number {
  for (let i = b.length - 1; i > 0; i--) {
    if (b[i] !== 10) continue
    if (b[i - 1] === 10 || (b[i - 1] === 13 && i > 1 && b[i - 2] === 10)) return i + 1
  }
  return -1
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

function dataOf(line: string): string | null {
  if (!line.startsWith('data:')) return null
  const end = line.endsWith('\r') ? line.length - 1 : line.length
  return line.slice(line.charCodeAt(5) === 32 ? 6 : 5, end)
}

export function relay(
  source: ReadableStream<Uint8Array>,
  hooks: RelayHooks,
  abortUpstream: () => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  const decoder = new TextDecoder()
  const onEvent = hooks.onEvent
  let bytes = 0
  let finished = false
  let lineCarry = ''
  let held: Uint8Array | null = null

  const finish = (how: RelayEnd) => {
    if (finished) return
    finished = true
    hooks.onEnd(how, bytes)
  }

  /** Inspect-only mode: complete lines go to onEvent, the chunk itself is forwarded untouched. */
  const scanLines = (chunk: Uint8Array | null) => {
    const text = lineCarry + (chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode())
    let start = 0
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const data = dataOf(text.slice(start, nl))
      if (data !== null) onEvent!(data)
      start = nl + 1
    }
    lineCarry = text.length - start > MAX_HELD_BYTES ? '' : text.slice(start)
    if (!chunk && lineCarry) {
      const data = dataOf(lineCarry)
      if (data !== null) onEvent!(data)
    }
  }

  /** Drop mode: whole events only; returns the bytes to forward (the input when nothing dropped). */
  const filterEvents = (complete: Uint8Array): Uint8Array => {
    const text = decoder.decode(complete)
    const events = text.split(/\r?\n\r?\n/)
    let dropped = false
    const kept: string[] = []
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!
      let drop = false
      for (const line of ev.split('\n')) {
        const data = dataOf(line)
        if (data !== null && onEvent!(data)) drop = true
      }
      if (drop) dropped = true
      else if (i < events.length - 1 || ev !== '') kept.push(ev)
    }
    if (!dropped) return complete
    return kept.length === 0 ? new Uint8Array(0) : encoder.encode(kept.join('\n\n') + '\n\n')
  }

  const rewrite = hooks.rewrite
  /** Rewrite mode: whole events in, the client's bytes for them out. */
  const rewriteEvents = (complete: Uint8Array): string => {
    let out = ''
    for (const ev of decoder.decode(complete).split(/\r?\n\r?\n/)) {
      let data: string | null = null
      for (const line of ev.split('\n')) {
        const d = dataOf(line)
        if (d !== null) data = data === null ? d : `${data}\n${d}`
      }
      if (data === null) continue
      onEvent?.(data)
      out += rewrite!.event(data)
    }
    return out
  }
  const takeRewrite = (chunk: Uint8Array): Uint8Array | null => {
    const data = held ? concat(held, chunk) : chunk
    const end = lastBoundary(data)
    if (end < 0) {
      if (data.length > MAX_REWRITE_BYTES) throw new Error('an upstream event is too large')
      held = data
      return null
    }
    held = end < data.length ? data.slice(end) : null
    const out = rewriteEvents(end === data.length ? data : data.subarray(0, end))
    return out ? encoder.encode(out) : null
  }
  /** The last bytes of a translated stream: the held rest, then the translator's ending. */
  const rewriteEnd = (): Uint8Array | null => {
    const out = (held ? rewriteEvents(held) : '') + rewrite!.end()
    held = null
    return out ? encoder.encode(out) : null
  }

  const take = (chunk: Uint8Array): Uint8Array | null => {
    if (rewrite) return takeRewrite(chunk)
    if (!onEvent) return chunk
    if (!hooks.canDrop) {
      scanLines(chunk)
      return chunk
    }
    const data = held ? concat(held, chunk) : chunk
    const end = lastBoundary(data)
    if (end < 0) {
      held = data.length > MAX_HELD_BYTES ? null : data
      return held ? null : data
    }
    held = end < data.length ? data.slice(end) : null
    const out = filterEvents(end === data.length ? data : data.subarray(0, end))
    return out.length ? out : null
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let r: Awaited<ReturnType<typeof reader.read>>
          try {
            r = await reader.read()
          } catch {
            const last = rewrite ? rewriteEnd() : null
            if (last) controller.enqueue(last)
            finish('error')
            controller.close()
            return
          }
          if (r.done) {
            if (rewrite) {
              const last = rewriteEnd()
              if (last) controller.enqueue(last)
            } else if (onEvent && !hooks.canDrop) scanLines(null)
            else if (held) {
              const rest = filterEvents(held)
              if (rest.length) controller.enqueue(rest)
            }
            held = null
            finish('end')
            controller.close()
            return
          }
          bytes += r.value.length
          let out: Uint8Array | null
          try {
            out = take(r.value)
          } catch {
            // Only a translated stream throws here (an event too large to hold): it ends.
            reader.cancel().catch(() => {})
            abortUpstream()
            finish('error')
            controller.close()
            return
          }
          if (out) {
            controller.enqueue(out)
            return
          }
        }
      },
      cancel() {
        finish('cancel')
        abortUpstream()
        reader.cancel().catch(() => {})
      },
    },
    { highWaterMark: 0 },
  )
}
