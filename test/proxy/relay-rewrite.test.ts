// The stream relay's translated mode: whole events in, the client's bytes out, event by event as
// they arrive (never the whole body first), the meter still seeing every upstream payload.
import { describe, expect, test } from 'bun:test'
import { relay, type RelayEnd } from '../../src/proxy/stream'

const enc = new TextEncoder()
const dec = new TextDecoder()

/** An upstream body the test feeds piece by piece. */
function source() {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) })
  return { stream, push: (s: string) => ctrl.enqueue(enc.encode(s)), close: () => ctrl.close() }
}

const upper = {
  event: (d: string) => `data: ${d.toUpperCase()}\n\n`,
  end: () => 'data: END\n\n',
}

describe('relay rewrite', () => {
  test('each event goes out when it is whole, before the upstream sends the next', async () => {
    const up = source()
    const seen: string[] = []
    let ended: RelayEnd | null = null
    const out = relay(
      up.stream,
      { onEvent: (d) => (seen.push(d), false), rewrite: upper, onEnd: (how) => void (ended = how) },
      () => {},
    ).getReader()
    up.push('event: a\ndata: one\n\nda')
    expect(dec.decode((await out.read()).value)).toBe('data: ONE\n\n')
    // An event split across reads is held until its blank line arrives.
    up.push('ta: tw')
    up.push('o\r\n\r\n: comment only\n\n')
    expect(dec.decode((await out.read()).value)).toBe('data: TWO\n\n')
    up.push('data: three')
    up.close()
    expect(dec.decode((await out.read()).value)).toBe('data: THREE\n\ndata: END\n\n')
    expect((await out.read()).done).toBe(true)
    expect(seen).toEqual(['one', 'two', 'three'])
    expect(ended!).toBe('end')
  })

  test('multi-line data is joined with newlines; events with no output send nothing', async () => {
    const up = source()
    const got: string[] = []
    const out = relay(
      up.stream,
      {
        rewrite: {
          event: (d) => (got.push(d), d === 'skip' ? '' : `data: ${d}\n\n`),
          end: () => '',
        },
        onEnd: () => {},
      },
      () => {},
    ).getReader()
    up.push('data: skip\n\ndata: a\ndata: b\n\n')
    expect(dec.decode((await out.read()).value)).toBe('data: a\nb\n\n')
    up.close()
    expect((await out.read()).done).toBe(true)
    expect(got).toEqual(['skip', 'a\nb'])
  })

  test('a client that cancels aborts the upstream and ends the call as cancelled', async () => {
    const up = source()
    let aborted = false
    let ended: RelayEnd | null = null
    const out = relay(up.stream, { rewrite: upper, onEnd: (how) => void (ended = how) }, () => {
      aborted = true
    })
    const reader = out.getReader()
    up.push('data: x\n\n')
    await reader.read()
    await reader.cancel()
    expect(aborted).toBe(true)
    expect(ended!).toBe('cancel')
  })
})
