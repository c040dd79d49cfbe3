// Client side of the concurrent-streams runs, as its own process: Bun queues fetches beyond
// BUN_CONFIG_MAX_HTTP_REQUESTS (read at start-up), so streams-run.ts starts this script with the
// limit raised. Opens STREAMS chat streams through the gateway, reads each to its end, prints
// `open` once every stream has its headers and a last line `result {json}`.
const url = process.env.GATEWAY_URL!
const keys = process.env.KEYS!.split(',')
const streams = Number(process.env.STREAMS)
const rampMs = Number(process.env.RAMP_MS ?? 0)
const body = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: 'Tell me a long story.' }],
})

export type StreamOutcome = {
  status: number
  /** `data: [DONE]` arrived and the body then ended cleanly. */
  complete: boolean
  /** Content characters of the deltas, joined. */
  chars: number
  /** Data events other than [DONE]. */
  events: number
  /** An event carrying a usage object reached the client (it should stay hidden). */
  sawUsage: boolean
  error: string | null
}

let opened = 0
async function one(i: number): Promise<StreamOutcome> {
  const out: StreamOutcome = {
    status: 0,
    complete: false,
    chars: 0,
    events: 0,
    sawUsage: false,
    error: null,
  }
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${keys[i % keys.length]}`,
        'content-type': 'application/json',
      },
      body,
    })
    out.status = res.status
    if (++opened === streams) console.log('open')
    if (!res.ok || !res.body) {
      out.error = (await res.text()).slice(0, 200)
      return out
    }
    const decoder = new TextDecoder()
    let carry = ''
    let done = false
    const reader = res.body.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const lines = (carry + decoder.decode(r.value, { stream: true })).split('\n')
      carry = lines.pop()!
      for (const line of lines) {
        if (!line.startsWith('data: ')) continue
        if (line === 'data: [DONE]') {
          done = true
          continue
        }
        out.events++
        const event = JSON.parse(line.slice(6)) as {
          choices?: Array<{ delta?: { content?: string } }>
          usage?: unknown
        }
        out.chars += event.choices?.[0]?.delta?.content?.length ?? 0
        if (event.usage) out.sawUsage = true
      }
    }
    out.complete = done
  } catch (e) {
    out.error = (e as Error).message
  }
  return out
}

const pending: Array<Promise<StreamOutcome>> = []
for (let i = 0; i < streams; i++) {
  pending.push(one(i))
  if (rampMs > 0) await Bun.sleep(rampMs / streams)
}
const outcomes = await Promise.all(pending)
console.log(`result ${JSON.stringify(outcomes)}`)
