// Slow and aborted uploads over a raw socket: a body that does not arrive within BODY_TIMEOUT_MS
// (admin: whole; proxied: then at 16 KiB/s) is a 408 and the connection closes; a client that
// leaves mid-upload is an info line, never an error-level one.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { addAccount, startProxyEnv, until, type ProxyEnv } from '../proxy/fixtures'
import { loadConfig } from '../../src/config'

let env: ProxyEnv
let key: string
const TIMEOUT_MS = 200

beforeAll(async () => {
  env = await startProxyEnv({ BODY_TIMEOUT_MS: String(TIMEOUT_MS) })
  key = (await addAccount(env.gw, { creditUsd: 10 })).key
})
afterAll(() => env.close())

type Raw = { text: () => string; closed: Promise<void>; end(): void; write(s: string): void }

/** A raw connection that sends `head` and `part` of a body, then nothing more. */
async function rawUpload(head: string, part: string): Promise<Raw> {
  let text = ''
  let closedResolve!: () => void
  const closed = new Promise<void>((r) => (closedResolve = r))
  const sock = await Bun.connect({
    hostname: '127.0.0.1',
    port: env.gw.port,
    socket: {
      data(_s, d) {
        text += Buffer.from(d).toString()
      },
      close() {
        closedResolve()
      },
      error() {
        closedResolve()
      },
    },
  })
  sock.write(head + part)
  return { text: () => text, closed, end: () => sock.end(), write: (s) => void sock.write(s) }
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, Bun.sleep(ms).then(() => Promise.reject(new Error(`not within ${ms} ms`)))])

describe('BODY_TIMEOUT_MS', () => {
  test('the setting defaults to 30 s', () => {
    expect(loadConfig({}, {}).BODY_TIMEOUT_MS).toBe(30_000)
  })

  test('an admin body that stalls: 408 in the admin error shape, then the connection closes', async () => {
    const body = JSON.stringify({ Name: 'slowuser', Email: 's@x.io', CreditGranted: 5 })
    const head =
      `POST /x-users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${env.gw.rootKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
    const started = performance.now()
    const c = await rawUpload(head, body.slice(0, 10))
    await within(c.closed, 3000)
    const waited = performance.now() - started
    expect(c.text(), c.text()).toStartWith('HTTP/1.1 408')
    expect(c.text()).toContain('"code":"request_timeout"')
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 20)
    // Nothing was created.
    const list = await fetch(env.gw.url + '/x-users', { headers: { authorization: `Bearer ${env.gw.rootKey}` } })
    expect(JSON.stringify(await list.json())).not.toContain('slowuser')
  })

  test('a proxied upload below the minimum rate: 408 in the surface shape, upstream never called', async () => {
    const before = env.up.tally.requests
    const head =
      `POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${key}\r\nanthropic-version: 2023-06-01\r\n` +
      `Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n`
    const c = await rawUpload(head, '{"model":"claude-sonnet-4-0",')
    await within(c.closed, 3000)
    expect(c.text(), c.text()).toStartWith('HTTP/1.1 408')
    expect(c.text()).toContain('"type":"error"')
    expect(env.up.tally.requests).toBe(before)
  })

  test('a chunked proxied upload that stalls is a 408 too', async () => {
    const head =
      `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${key}\r\n` +
      `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`
    const c = await rawUpload(head, 'a\r\n{"model":"\r\n')
    await within(c.closed, 3000)
    expect(c.text(), c.text()).toStartWith('HTTP/1.1 408')
  })

  test('a body that arrives in time is served', async () => {
    const body = JSON.stringify({ Name: 'intimeuser', Email: 'i@x.io', CreditGranted: 5 })
    const head =
      `POST /x-users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${env.gw.rootKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`
    const c = await rawUpload(head, body.slice(0, 10))
    await Bun.sleep(TIMEOUT_MS / 4)
    c.write(body.slice(10))
    await within(c.closed, 3000)
    expect(c.text(), c.text()).toStartWith('HTTP/1.1 200')
  })
})

describe('aborted uploads', () => {
  for (const [name, path, auth] of [
    ['admin', '/x-users', () => `Authorization: Bearer ${env.gw.rootKey}`],
    ['proxied', '/v1/chat/completions', () => `Authorization: Bearer ${key}`],
  ] as const) {
    test(`${name}: a client that leaves mid-upload is an info line, not an error`, async () => {
      const head =
        `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth()}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n`
      const c = await rawUpload(head, '{"model":"gpt-4o-mini",')
      await Bun.sleep(30)
      c.end()
      const lines = env.gw.logLines
      await until(() => lines.some((l) => l.msg === 'upload aborted by the client' && l.path === path))
      const line = lines.find((l) => l.msg === 'upload aborted by the client' && l.path === path)
      expect(line?.level).toBe('info')
      expect(lines.filter((l) => l.level === 'error'), JSON.stringify(lines.slice(-5))).toEqual([])
    })
  }
})
