// The upstream-chaos scenario of the quick test and the soak: faulty keys at two levels and a
// steady one; each client outcome and usage record checked against the upstream's attempts.
import { expect } from 'bun:test'
import type { Clock } from '../../src/shared/clock'
import { startFakeUpstream, type FakeReply, type FakeRequestInfo } from '../helpers/fake-upstream'
import { call, startTestGateway } from '../helpers/gateway'
import { chat, seeded, startLoad, type CallResult } from '../helpers/load'
import { dbFacts, expectBooksBalanced, type UsageRow } from './books'

/** gpt-4o-mini list prices, nano-USD per token. */
const INPUT_NANO = 150
const OUTPUT_NANO = 600
const FULL_TEXT = 'Hello from the fake upstream.'
const FAULTY = ['sk-chaos-faulty-one-00000000001', 'sk-chaos-faulty-two-00000000002']
const FAULTY_L2 = 'sk-chaos-faulty-three-000000003'
const STEADY = 'sk-chaos-steady-four-0000000004'

/**
 * Three faulty keys (two at level 1, one at level 2, SWITCH_OVER 1=2) and one steady key at
 * level 2. Every upstream attempt is logged with the call it belongs to and its fault.
 */
export type Fault = 'ok' | '500' | '429' | 'break' | 'hang'

/** Upstream faults of a faulty key, cumulative: 30 % 500, 10 % 429, 5 % break off, 2 % hang. */
function roll(r: number): Fault {
  if (r < 0.3) return '500'
  if (r < 0.4) return '429'
  if (r < 0.45) return 'break'
  if (r < 0.47) return 'hang'
  return 'ok'
}

function replyFor(fault: Fault, stream: boolean): FakeReply | undefined {
  switch (fault) {
    case '500':
      return { status: 500 }
    case '429':
      return { status: 429, retryAfter: 1 }
    // Streams: the role chunk and two content chunks reach the client, then the cut. JSON: half.
    case 'break':
      return { disconnectAfterChunks: stream ? 3 : 1 }
    case 'hang':
      return { hang: true }
    case 'ok':
      return undefined
  }
}

export type ChaosOptions = { calls: number; concurrency: number; seed: number }

export type ChaosFigures = {
  seed: number
  calls: number
  streams: number
  upstreamAttempts: number
  faults: Record<Fault, number>
  /** Streams cut after their first byte: billed from what was seen, estimated. */
  brokenStreams: number
  failedNonStream: number
  /** Answers the upstream would have given but the gateway gave up on (first-byte timeout). */
  retriedAnswers: number
  keysSeenSleeping: string[]
  elapsedMs: number
}

type Attempt = { call: number; key: string; fault: Fault; stream: boolean; atMs: number }

/** `fault@key+ms` for each attempt of a call: which key (secret's last 4) and when. */
const describe = (tried: Attempt[]) =>
  tried.map((t) => `${t.fault}@${t.key.slice(-4)}+${t.atMs - tried[0]!.atMs}ms`).join(' ')

/**
 * Real time plus an offset a test may advance. During the load it runs 6× fast, so a 1 s
 * Retry-After passes by itself in about 170 ms and faulty keys keep taking most of the traffic.
 */
function offsetClock(): Clock & { advance(ms: number): void } {
  let offset = 0
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) }
}
const CLOCK_TICK_MS = 25
const CLOCK_SPEED = 6

function expectPriced(u: UsageRow, what: string) {
  expect(u.cost_nano, `${what}: cost of ${JSON.stringify(u)}`).toBe(
    u.prompt_tokens * INPUT_NANO + u.completion_tokens * OUTPUT_NANO,
  )
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosFigures> {
  const started = Date.now()
  const attempts: Attempt[] = []
  const triesOf = new Map<number, number>()
  const chaos = (r: FakeRequestInfo): FakeReply | undefined => {
    const body = r.body as { stream?: boolean; messages?: Array<{ content: string }> }
    const n = Number(/chaos call (\d+)/.exec(body.messages?.[0]?.content ?? '')?.[1] ?? -1)
    const stream = body.stream === true
    // The fault depends on the seed, the call and its attempt number, not on arrival order.
    const tries = triesOf.get(n) ?? 0
    triesOf.set(n, tries + 1)
    const fault = r.key === STEADY ? 'ok' : roll(seeded(opts.seed * 7919 + n * 17 + tries)())
    attempts.push({ call: n, key: r.key, fault, stream, atMs: Date.now() })
    return replyFor(fault, stream)
  }
  // About 60 ms a stream: the load lasts several Retry-After periods.
  const up = await startFakeUpstream({ chunks: 6, chunkDelayMs: 10, maxCalls: 0 })
  const clock = offsetClock()
  const gw = await startTestGateway(
    {
      INIT_KEYS: FAULTY.map((k) => `${k}::${up.url}`).join(','),
      SWITCH_OVER: '1=2',
      // Low, yet above the stalls a loaded two-core machine gives this one process (gateway, fake
      // upstream and clients together): at 300 ms an answer of the steady key was seen to time out.
      FIRST_BYTE_TIMEOUT_MS: '1000',
      FLUSH_INTERVAL_MS: '100',
    },
    { clock },
  )
  let sampling = true
  let sampler: Promise<void> = Promise.resolve()
  let fastClock: ReturnType<typeof setInterval> | undefined
  try {
    const root = gw.rootKey
    for (const [secret, name] of [
      [FAULTY_L2, 'faultyThree'],
      [STEADY, 'steadyFour'],
    ] as const) {
      const r = await call(gw, 'POST', '/x-keys', {
        key: root,
        body: { SecretKey: secret, Name: name, Provider: up.url, Level: 2 },
      })
      expect(r.status, r.text).toBe(200)
    }
    const accounts: Array<{ id: number; key: string }> = []
    for (let i = 0; i < 3; i++) {
      const r = await call(gw, 'POST', '/x-users', {
        key: root,
        body: { Name: `chaosacct${i}`, Email: `chaosacct${i}@example.com`, CreditGranted: 40 },
      })
      expect(r.status, r.text).toBe(200)
      accounts.push({ id: r.body.User.ID, key: r.body.User.SecretKey })
    }
    const keyName = new Map(gw.deps.keys.pool.all().map((k) => [k.secret, k.name]))
    expect(keyName.size, 'upstream keys in the pool').toBe(4)

    // Key states as GET /x-keys shows them, sampled while the load runs.
    const seen = new Map<string, Set<string>>()
    const woke = new Set<string>()
    sampler = (async () => {
      while (sampling) {
        const r = await call(gw, 'GET', '/x-keys', { key: root })
        for (const k of r.body as Array<{ Name: string; State: string }>) {
          const states = seen.get(k.Name) ?? new Set<string>()
          if (states.has('sleeping') && k.State === 'active') woke.add(k.Name)
          states.add(k.State)
          seen.set(k.Name, states)
        }
        await Bun.sleep(20)
      }
    })()
    fastClock = setInterval(() => clock.advance((CLOCK_SPEED - 1) * CLOCK_TICK_MS), CLOCK_TICK_MS)

    // The first estimate loads the tokenizer (about a second with the event loop held): do it
    // before the load, with a stream cut after its first byte, billed as an estimate.
    up.setBehavior((r) => (r.key === STEADY ? { disconnectAfterChunks: 3 } : { status: 500 }))
    const warm = await chat(gw.url, accounts[0]!.key, { stream: true, content: 'warm up' })
    expect([warm.status, warm.sawDone], warm.error ?? '').toEqual([200, false])
    up.setBehavior(chaos)
    up.reset()
    attempts.length = 0

    const load = startLoad({
      concurrency: opts.concurrency,
      maxCalls: opts.calls,
      task: (n) => {
        const a = accounts[n % accounts.length]!
        return chat(gw.url, a.key, {
          stream: n % 2 === 1,
          content: `chaos call ${n}`,
          label: `call ${n}`,
        }).then((r) => ({ ...r, label: String(n) }))
      },
    })
    const results = await load.finished
    const tally = { ...up.tally }
    clearInterval(fastClock)
    sampling = false
    await sampler
    await gw.deps.flusher.flushNow()
    const facts = await dbFacts(gw.deps.sql)
    await expectBooksBalanced(gw.deps.sql, facts)

    const byCall = new Map<number, Attempt[]>()
    for (const a of attempts) {
      const list = byCall.get(a.call) ?? []
      list.push(a)
      byCall.set(a.call, list)
    }
    // One usage record per call (and the warm-up's), under the request id its client saw.
    expect(facts.usage.length, 'usage records vs calls').toBe(results.length + 1)
    expect(facts.byRequest.get(warm.requestId!)?.estimated, 'the warm-up stream').toBe(1)
    const figures = checkCalls(results, byCall, facts.byRequest)
    const hangs = attempts.filter((a) => a.fault === 'hang').length
    expect(
      figures.retriedAnswers,
      `answers retried although given (hangs ${hangs}, upstream aborts ${tally.aborted})`,
    ).toBeLessThanOrEqual(tally.aborted - hangs)

    // Keys that answered 429 were seen asleep in GET /x-keys and came back by themselves.
    const limited = new Set(attempts.filter((a) => a.fault === '429').map((a) => a.key))
    for (const secret of limited) {
      const name = keyName.get(secret)!
      expect([...(seen.get(name) ?? [])], `states of ${name}, which answered 429`).toContain(
        'sleeping',
      )
      const first429 = attempts.findIndex((a) => a.key === secret && a.fault === '429')
      const mine = attempts.filter((a) => a.key === secret)
      expect(
        attempts.slice(first429 + 1).some((a) => a.key === secret),
        `${name} was used again after its first 429: ${describe(mine)}`,
      ).toBe(true)
    }
    expect(woke.size, 'keys seen going from sleeping back to active').toBeGreaterThan(0)
    await expectSleepAndWake(gw, up, clock, FAULTY[0]!, keyName.get(FAULTY[0]!)!, accounts[0]!.key)

    const faults: Record<Fault, number> = { ok: 0, '500': 0, '429': 0, break: 0, hang: 0 }
    for (const a of attempts) if (a.key !== STEADY) faults[a.fault]++
    return {
      seed: opts.seed,
      calls: results.length,
      streams: results.filter((r) => r.kind === 'stream').length,
      upstreamAttempts: attempts.length,
      faults,
      ...figures,
      keysSeenSleeping: [...seen].filter(([, s]) => s.has('sleeping')).map(([n]) => n),
      elapsedMs: Date.now() - started,
    }
  } finally {
    clearInterval(fastClock)
    sampling = false
    await sampler
    await gw.close()
    await up.stop()
  }
}

/**
 * Each client outcome against its upstream attempts: all but the last attempt failed before the
 * first byte; a non-stream call always succeeds; a stream fails only when its last attempt broke
 * off after the first byte, and is then billed from what was seen, marked estimated.
 */
function checkCalls(
  results: CallResult[],
  byCall: Map<number, Attempt[]>,
  byRequest: Map<string, UsageRow>,
): Pick<ChaosFigures, 'brokenStreams' | 'failedNonStream' | 'retriedAnswers'> {
  let brokenStreams = 0
  let failedNonStream = 0
  let retriedAnswers = 0
  for (const r of results) {
    const n = Number(r.label)
    const tried = byCall.get(n) ?? []
    const what = `call ${n} (${r.kind}) tried ${describe(tried)}`
    expect(r.requestId, `${what}: ${r.error}`).not.toBeNull()
    const u = byRequest.get(r.requestId!)
    expect(u, `${what}: its usage record`).toBeDefined()
    expectPriced(u!, what)
    const last = tried.at(-1)
    expect(last, what).toBeDefined()
    // An answer the upstream meant to give may still be retried: when it came later than the
    // first-byte timeout. Those are counted here and checked against the upstream's aborts.
    retriedAnswers += tried
      .slice(0, -1)
      .filter((t) => t.fault === 'ok' || (t.fault === 'break' && t.stream)).length
    expect(r.status, `${what}: ${r.error}`).toBe(200)
    if (r.kind === 'chat') {
      if (!r.complete) failedNonStream++
      expect(r.complete, `${what}: non-stream calls never fail (${r.error})`).toBe(true)
      expect(r.body.choices[0].message.content, what).toBe(FULL_TEXT)
      expect(last!.fault, what).toBe('ok')
      expect([u!.status, u!.estimated, u!.prompt_tokens, u!.completion_tokens], what).toEqual([
        200, 0, 12, 8,
      ])
      continue
    }
    if (last!.fault === 'break') {
      brokenStreams++
      expect(r.sawDone, `${what}: a stream cut after its first byte cannot end with [DONE]`).toBe(
        false,
      )
      // The cut may take the last chunks with it (a reset drops unread bytes): what the client
      // saw is a prefix of the answer, and what the gateway billed covers it.
      expect(FULL_TEXT.startsWith(r.text), `${what}: saw ${r.text}`).toBe(true)
      expect(u!.estimated, `${what}: billed from what was seen, marked estimated`).toBe(1)
      if (r.text.length > 0) expect(u!.completion_tokens, what).toBeGreaterThan(0)
      expect(u!.completion_tokens, what).toBeLessThan(8)
      expect(u!.prompt_tokens, `${what}: the prompt is billed by estimate`).toBeGreaterThan(0)
    } else {
      expect(last!.fault, what).toBe('ok')
      expect(r.complete, `${what}: ${r.error}`).toBe(true)
      expect(r.text, what).toBe(FULL_TEXT)
      expect([u!.status, u!.estimated, u!.prompt_tokens, u!.completion_tokens], what).toEqual([
        200, 0, 12, 8,
      ])
    }
  }
  return { brokenStreams, failedNonStream, retriedAnswers }
}

/**
 * A deterministic 429 (Retry-After 30 s) on one key: GET /x-keys shows it sleeping until then,
 * calls go around it, and once the clock passes the time it is active and used again, with no
 * operator action.
 */
async function expectSleepAndWake(
  gw: Awaited<ReturnType<typeof startTestGateway>>,
  up: Awaited<ReturnType<typeof startFakeUpstream>>,
  clock: ReturnType<typeof offsetClock>,
  secret: string,
  name: string,
  clientKey: string,
) {
  const stateOf = async () => {
    const r = await call(gw, 'GET', '/x-keys', { key: gw.rootKey })
    return (r.body as Array<{ Name: string; State: string; SleepUntil: string | null }>).find(
      (k) => k.Name === name,
    )!
  }
  up.setBehavior((r) => (r.key === secret ? { status: 429, retryAfter: 30 } : undefined))
  // Past every sleep of the load; then calls until one has reached the key and put it to sleep.
  clock.advance(5_000)
  const errors = () => up.tally.byKey[secret]?.error ?? 0
  const errorsBefore = errors()
  for (let i = 0; i < 10 && errors() === errorsBefore; i++) {
    const r = await chat(gw.url, clientKey, { stream: false, content: 'sleep probe' })
    expect(r.status, r.error ?? '').toBe(200)
  }
  const asleep = await stateOf()
  expect(asleep.State, JSON.stringify(asleep)).toBe('sleeping')
  expect(Date.parse(asleep.SleepUntil!)).toBeGreaterThan(clock.now() + 25_000)
  up.setBehavior(undefined)
  const before = up.tally.byKey[secret]?.requests ?? 0
  for (let i = 0; i < 4; i++) await chat(gw.url, clientKey, { stream: false, content: 'asleep' })
  expect(up.tally.byKey[secret]?.requests ?? 0, `${name} is skipped while asleep`).toBe(before)
  clock.advance(31_000)
  const awake = await stateOf()
  expect(awake.State, JSON.stringify(awake)).toBe('active')
  for (let i = 0; i < 4; i++) await chat(gw.url, clientKey, { stream: false, content: 'awake' })
  expect(up.tally.byKey[secret]?.requests ?? 0, `${name} is used again`).toBeGreaterThan(before)
}
