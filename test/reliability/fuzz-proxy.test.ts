// Fuzz of the proxied surfaces (/v1/*, server fast path): JSON, multipart, key headers, oversize
// bodies; no 5xx of the gateway's own, no leak, the dialect's error shape, refusals change nothing.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import fc from 'fast-check'
import { ENDPOINTS } from '../../src/proxy/endpoints'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'
import {
  bodyText,
  contentType,
  fire,
  JObj,
  nasty,
  nastyNumber,
  nastyString,
  seedFor,
  verdict,
  type Sent,
} from './fuzz-values'

const LIMIT = 65_536
let up: FakeUpstream
let gw: TestGateway
let key = ''
const tally: Record<string, Record<string, number>> = {}

/**
 * In front of the fake provider: counts every call and answers multipart bodies itself (the
 * fake parses them and would fail on garbage the gateway rightly passes through).
 */
let reached = 0
let front: ReturnType<typeof Bun.serve>

beforeAll(async () => {
  up = await startFakeUpstream({ maxCalls: 0 })
  front = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      reached++
      const url = new URL(req.url)
      if (req.headers.get('content-type')?.startsWith('multipart/')) {
        await req.arrayBuffer()
        return Response.json({ text: 'fine' })
      }
      const body = req.method === 'GET' ? undefined : await req.arrayBuffer()
      return fetch(up.url + url.pathname + url.search, {
        method: req.method,
        headers: req.headers,
        body,
      })
    },
  })
  const to = `http://127.0.0.1:${front.port}`
  gw = await startTestGateway({
    MAX_BODY_BYTES: String(LIMIT),
    INIT_KEYS: `sk-fuzz-openai-0001::${to},sk-fuzz-anthropic-0002::${to}::anthropic`,
  })
  const body = {
    Name: `fuzz-proxy-${process.pid}`,
    Email: 'fuzz-proxy@example.com',
    CreditGranted: 1000,
  }
  const r = await call(gw, 'POST', '/x-users', { key: gw.rootKey, body })
  if (r.status !== 200) throw new Error(`set-up: ${r.text}`)
  key = r.body.User.SecretKey
})

afterAll(async () => {
  const plain = await call(gw, 'POST', '/v1/chat/completions', {
    key,
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still fine?' }] },
  })
  const errors = gw.logLines.filter((l) => l.level === 'error')
  const broken = await gw.deps.accounts.service.cards.invariantViolations()
  console.log(`fuzz (proxy) statuses: ${JSON.stringify(tally)}`)
  await gw.close()
  await front.stop(true)
  await up.stop()
  expect(plain.status, `a plain call after the fuzz: ${plain.text}`).toBe(200)
  expect(errors, `error lines in the log: ${JSON.stringify(errors).slice(0, 2000)}`).toEqual([])
  expect(broken, `ledger invariant broken: ${JSON.stringify(broken)}`).toEqual([])
})

/** The provider's own failures pass through as 5xx; the gateway may not make one of its own. */
const PASSED_ON = new Set(['upstream_error', 'upstream_timeout', 'no_available_key'])

async function check(prop: string, sent: Sent) {
  const seen = reached
  const { got, changed } = await fire(gw, sent)
  const contacted = reached > seen
  const t = (tally[prop] ??= {})
  const k = `${Math.floor(got.status / 100)}xx${contacted ? '' : ' (refused)'}`
  t[k] = (t[k] ?? 0) + 1
  let code: string | undefined
  try {
    const e = JSON.parse(got.text)
    code = e.error?.code ?? e.error?.type
  } catch {
    code = undefined
  }
  // A call that reached the provider is a call: its usage record is state by design.
  verdict(sent, got, contacted ? [] : changed, {
    allow5xx: contacted && got.status >= 500 && PASSED_ON.has(code ?? ''),
  })
  return { got, contacted }
}

const authHeader = fc.constantFrom('bearer', 'bare', 'x-api-key')
const headersOf = (how: string, type: string): Record<string, string> => {
  const h: Record<string, string> =
    how === 'x-api-key'
      ? { 'x-api-key': key }
      : { authorization: how === 'bare' ? key : `Bearer ${key}` }
  if (type) h['content-type'] = type
  if (how === 'x-api-key') h['anthropic-version'] = '2023-06-01'
  return h
}

const MODELS = [
  'gpt-4o-mini',
  'claude-haiku-4-5',
  'text-embedding-3-small',
  'dall-e-2',
  'tts-1',
  'whisper-1',
]
const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'tool'), nastyString),
    content: fc.oneof(fc.string({ maxLength: 60 }), nasty),
  },
  { requiredKeys: [] },
)

/** Request fields the providers know, each plausible, bad or absent. */
function proxyObject() {
  const some = <T>(good: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: nasty })
  return fc
    .record(
      {
        model: some(fc.constantFrom(...MODELS, 'gpt-nope', '*', 'x'.repeat(300))),
        messages: some(fc.array(message, { maxLength: 3 })),
        input: some(
          fc.oneof(fc.string({ maxLength: 40 }), fc.array(fc.string(), { maxLength: 3 })),
        ),
        prompt: some(fc.string({ maxLength: 40 })),
        max_tokens: fc.oneof(nastyNumber, fc.constantFrom(1, 16, 2 ** 31, 1e15)),
        stream: some(fc.boolean()),
        stream_options: some(fc.record({ include_usage: some(fc.boolean()) })),
        n: nastyNumber,
        temperature: nastyNumber,
      },
      { requiredKeys: [] },
    )
    .map((o) => new JObj(Object.entries(o)))
}

const jsonEndpoints = ENDPOINTS.filter((e) => !e.multipart)
const multipartEndpoints = ENDPOINTS.filter((e) => e.multipart)

test('generated JSON bodies at every proxied endpoint', async () => {
  const arb = fc.record({
    ep: fc.constantFrom(...jsonEndpoints),
    body: bodyText(proxyObject()),
    type: contentType,
    how: authHeader,
  })
  await fc.assert(
    fc.asyncProperty(arb, async ({ ep, body, type, how }) => {
      await check('json', { method: 'POST', path: ep.path, headers: headersOf(how, type), body })
    }),
    { seed: seedFor(9001), numRuns: 300 },
  )
})

test('multipart garbage at the multipart endpoints', async () => {
  const part = fc.record({
    name: fc.oneof(
      fc.constantFrom('model', 'file', 'language', 'prompt', 'response_format'),
      nastyString,
    ),
    filename: fc.option(fc.oneof(fc.constantFrom('a.wav', ''), nastyString), { nil: undefined }),
    value: fc.oneof(
      fc.constantFrom(...MODELS),
      nastyString,
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    ),
    crlf: fc.constantFrom('\r\n', '\n', ''),
  })
  const arb = fc.record({
    ep: fc.constantFrom(...multipartEndpoints),
    boundary: fc.oneof(
      fc.constantFrom('zz', 'a'.repeat(80), '--', ''),
      fc.stringMatching(/^[A-Za-z0-9'()+_,./:=? -]{1,70}$/),
    ),
    declared: fc.option(fc.oneof(fc.constantFrom('zz', 'other', '"zz"', ''), nastyString), {
      nil: undefined,
    }),
    parts: fc.array(part, { maxLength: 4 }),
    close: fc.constantFrom('--\r\n', '--', '', '\r\n'),
    cut: fc.option(fc.nat(), { nil: undefined }),
    how: authHeader,
  })
  await fc.assert(
    fc.asyncProperty(arb, async ({ ep, boundary, declared, parts, close, cut, how }) => {
      let text = ''
      for (const p of parts) {
        const file = p.filename === undefined ? '' : `; filename="${p.filename}"`
        const head = `Content-Disposition: form-data; name="${p.name}"${file}`
        text += `--${boundary}${p.crlf}${head}${p.crlf}${p.crlf}${p.value}${p.crlf}`
      }
      text += `--${boundary}${close}`
      if (cut !== undefined) text = text.slice(0, cut % (text.length + 1))
      const b = declared === undefined ? boundary : declared
      const type = `multipart/form-data; boundary=${b.replace(/[^\x20-\x7e]/g, '')}`
      const body = Buffer.from(text, 'latin1')
      await check('multipart', {
        method: 'POST',
        path: ep.path,
        headers: headersOf(how, type),
        body,
      })
    }),
    { seed: seedFor(9002), numRuns: 150 },
  )
})

test('key headers: garbage, near misses, wrong header: 401, nothing changed', async () => {
  const near = fc.nat({ max: 50 }).map((i) => key.slice(0, i) + key.slice(i + 1))
  const value = fc.oneof(
    near,
    fc.stringMatching(/^[\x20-\x7e]{0,80}$/),
    fc.constant(`${key} ${key}`),
  )
  const arb = fc.record({
    ep: fc.constantFrom(...ENDPOINTS),
    header: fc.constantFrom('authorization', 'x-api-key', 'Authorization'),
    prefix: fc.constantFrom('Bearer ', 'bearer  ', 'Basic ', '', 'Bearer'),
    value,
  })
  await fc.assert(
    fc.asyncProperty(arb, async ({ ep, header, prefix, value }) => {
      const headers = { [header]: `${prefix}${value}`, 'content-type': 'application/json' }
      const body = JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      })
      const { got, contacted } = await check('keys', {
        method: 'POST',
        path: ep.path,
        headers,
        body,
      })
      if (got.status !== 401 || contacted)
        throw new Error(`${header}: ${prefix}${value} → ${got.status} ${got.text}`)
    }),
    { seed: seedFor(9003), numRuns: 150 },
  )
})

test('bodies over MAX_BODY_BYTES, declared or chunked: 413, upstream untouched', async () => {
  const arb = fc.record({
    ep: fc.constantFrom(...ENDPOINTS),
    extra: fc.integer({ min: 1, max: LIMIT }),
    chunked: fc.boolean(),
  })
  await fc.assert(
    fc.asyncProperty(arb, async ({ ep, extra, chunked }) => {
      const text = JSON.stringify({ model: 'gpt-4o-mini', input: 'a'.repeat(LIMIT + extra) })
      const bytes = new TextEncoder().encode(text)
      const body = chunked
        ? new ReadableStream<Uint8Array>({
            start(c) {
              for (let i = 0; i < bytes.length; i += 8192) c.enqueue(bytes.slice(i, i + 8192))
              c.close()
            },
          })
        : text
      const { got, contacted } = await check('limits', {
        method: 'POST',
        path: ep.path,
        headers: headersOf('bearer', 'application/json'),
        body,
      })
      if (got.status !== 413 || contacted) throw new Error(`${ep.path}: ${got.status} ${got.text}`)
    }),
    { seed: seedFor(9004), numRuns: 30 },
  )
})
