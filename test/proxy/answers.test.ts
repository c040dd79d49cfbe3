// Unusual JSON answers from a provider: an empty body, a 204, an answer that breaks off half way.
// The client gets what the provider sent (or a 502 for a broken answer) and the call settles once.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { addAccount, until, usageRows } from './fixtures'

let provider: ReturnType<typeof Bun.serve>
let gw: TestGateway
const JSON_TYPE = { 'content-type': 'application/json' }

beforeAll(async () => {
  provider = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      await req.text()
      const mode = req.headers.get('x-mode')
      if (mode === 'empty') return new Response('', { headers: JSON_TYPE })
      if (mode === '204') return new Response(null, { status: 204, headers: JSON_TYPE })
      // A long answer (an embedding's floats) with its usage at the end, past any whole parse.
      const big = /^big-(\d+)$/.exec(mode ?? '')
      if (big) {
        const floats = Array.from({ length: Number(big[1]) }, (_, i) => (i % 97) / 97)
        const usage = { prompt_tokens: 31, total_tokens: 31 }
        return Response.json({ object: 'list', data: [{ embedding: floats }], usage })
      }
      // Half an answer, then the connection is cut.
      let sent = false
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (sent) {
            await Bun.sleep(5)
            c.error()
            return
          }
          sent = true
          c.enqueue(new TextEncoder().encode('{"id":"x","choices":[{"message":{"content":"hel'))
        },
      })
      return new Response(body, { headers: JSON_TYPE })
    },
  })
  gw = await startTestGateway({
    INIT_KEYS: `sk-answers-key-00000001::http://127.0.0.1:${provider.port}`,
  })
})
afterAll(async () => {
  await gw.close()
  await provider.stop(true)
})

async function call(mode: string) {
  const { key, account } = await addAccount(gw)
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-mode': mode },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  })
  const text = await res.text()
  await until(() => gw.deps.inFlight.count() === 0)
  return { res, text, rows: await usageRows(gw, account.id) }
}

describe('JSON answers', () => {
  test('an empty body passes as an empty 200; one record', async () => {
    const { res, text, rows } = await call('empty')
    expect(res.status, text).toBe(200)
    expect(text).toBe('')
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(rows.length).toBe(1)
    expect(rows[0].status).toBe(200)
  })

  test('a 204 passes as a 204 without a body; one record', async () => {
    const { res, text, rows } = await call('204')
    expect(res.status, text).toBe(204)
    expect(text).toBe('')
    expect(rows.length).toBe(1)
    expect(rows[0].status).toBe(204)
  })

  test('an answer that breaks off: 502 upstream_error to the client, settled once', async () => {
    const { res, text, rows } = await call('cut')
    expect(res.status, text).toBe(502)
    expect(JSON.parse(text).error.code).toBe('upstream_error')
    expect(rows.length).toBe(1)
  })
})

describe('usage of long answers', () => {
  // Small answers are parsed whole; long ones have their usage object found near the end.
  for (const n of [100, 5_000, 100_000]) {
    test(`${n} floats: billed from the reported usage`, async () => {
      const { res, text, rows } = await call(`big-${n}`)
      expect(res.status).toBe(200)
      expect(JSON.parse(text).data[0].embedding.length).toBe(n)
      expect(rows.length).toBe(1)
      expect(rows[0].prompt_tokens).toBe(31)
      expect(rows[0].estimated).toBe(0)
    })
  }
})

describe('routing of proxied paths', () => {
  // Proxied surfaces are Bun routes (exact path, POST); the rest goes through fetch() and the
  // framework, whose own routes also proxy a trailing-slash path.
  test('a query string or a trailing slash reaches the proxy; GET does not', async () => {
    const { key, account } = await addAccount(gw)
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [] })
    const q = await fetch(gw.url + '/v1/chat/completions?api-version=1', {
      method: 'POST',
      headers: { ...headers, 'x-mode': 'empty' },
      body,
    })
    expect(q.status).toBe(200)
    await q.arrayBuffer()
    const get = await fetch(gw.url + '/v1/chat/completions', { headers })
    const slash = await fetch(gw.url + '/v1/chat/completions/', {
      method: 'POST',
      headers: { ...headers, 'x-mode': 'empty' },
      body,
    })
    expect(get.status).toBeGreaterThanOrEqual(400)
    expect(slash.status).toBe(200)
    expect(get.headers.get('x-request-id')).toMatch(/^req_/)
    expect(slash.headers.get('x-request-id')).toMatch(/^req_/)
    await until(() => gw.deps.inFlight.count() === 0)
    expect((await usageRows(gw, account.id)).length).toBe(2)
  })
})

describe("xgate's request id", () => {
  // The server skips its own x-request-id pass for proxied paths: every answer there must carry it.
  test('is on every proxied answer: relayed, refused by xgate, oversize, broken upstream', async () => {
    const { key } = await addAccount(gw)
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body,
      })
    const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [] })
    const answers = [
      await post(chat, { 'x-mode': 'empty' }),
      await post(chat, { 'x-mode': 'cut' }),
      await post(chat, { authorization: 'Bearer sk-Xvsnotakey' }),
      await post('{not json'),
      await post(JSON.stringify({ model: 'no-such-model-x', messages: [] })),
      await post('x'.repeat(gw.deps.config.MAX_BODY_BYTES + 1)),
    ]
    const seen = new Set<string>()
    for (const res of answers) {
      await res.arrayBuffer()
      const id = res.headers.get('x-request-id')
      expect(id, `status ${res.status}`).toMatch(/^req_/)
      seen.add(id!)
    }
    expect(answers.map((r) => r.status)).toEqual([200, 502, 401, 400, 400, 413])
    expect(seen.size).toBe(answers.length)
  })
})
