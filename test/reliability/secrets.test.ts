// Secrets never leak: a whole scenario run with a file logger, then log, answers and database files
// searched for every key and secret used; non-http(s) upstream providers are refused.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { encode, lookupType } from '../../src/control/protos'
import { createLogger } from '../../src/shared/log'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { call, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway'
import { runCli } from '../helpers/process'
import { diffSnapshots, snapshot } from '../helpers/snapshot'

const rand = (n: number) => randomBytes(n).toString('hex')
const up1 = `sk-up-${rand(20)}` // INIT_KEYS, openai
const up2 = `sk-ant-${rand(20)}` // INIT_KEYS, anthropic
const up3 = `sk-up-${rand(20)}` // POST /x-keys, refused by the provider, which quotes it
const up4 = `sk-up-${rand(20)}` // POST /x-keys, then replaced by PUT
const up5 = `sk-up-${rand(20)}` // the replacement
const up6 = `sk-up-${rand(20)}` // AddOutbound through the control mirror
const smtpPass = `smtp-${rand(16)}`
const UPSTREAM = [up1, up2, up3, up4, up5, up6]

type Seen = { what: string; status: number; text: string; showsKeyOnce: boolean; before: string[] }
const seen: Seen[] = []
const accountKeys: string[] = []
const logDir = tempDir('xgate-secrets-log-')
const LOG_FILE = join(logDir, 'xgate.log')
let up: FakeUpstream
let gw: TestGateway

/** Every 12-character piece of a secret: a leak of part of a key is a leak. */
function pieces(secret: string): string[] {
  const out: string[] = []
  for (let i = 0; i + 12 <= secret.length; i++) out.push(secret.slice(i, i + 12))
  return out
}

/** Text to search: the body, plus every base64-looking JSON string decoded (the mirror's bytes). */
function searchable(text: string): string {
  const decoded: string[] = []
  for (const m of text.matchAll(/"([A-Za-z0-9+/]{12,}={0,2})"/g)) {
    decoded.push(Buffer.from(m[1]!, 'base64').toString('latin1'))
  }
  return [text, ...decoded].join('\n')
}

function leaksIn(text: string, secrets: string[]): string[] {
  const hay = searchable(text)
  return secrets.filter((s) => pieces(s).some((p) => hay.includes(p)))
}

async function req(
  what: string,
  method: string,
  path: string,
  key: string | undefined,
  body?: unknown,
  showsKeyOnce = false,
) {
  const before = [...accountKeys]
  const r = await call(gw, method, path, { key, body })
  seen.push({ what, status: r.status, text: r.text, showsKeyOnce, before })
  return r
}

async function must(what: string, method: string, path: string, key: string, body?: unknown) {
  const r = await req(what, method, path, key, body)
  expect(r.status, `${what}: ${r.text}`).toBe(200)
  return r.body
}

let A = { id: 0, key: '' }
let A1 = { id: 0, key: '' }

beforeAll(async () => {
  up = await startFakeUpstream({
    behavior: (r) => {
      if (r.key === up3) return { status: 401, message: `Incorrect API key provided: ${r.key}` }
      if (r.path === '/v1/embeddings') return { status: 500, message: 'provider trouble' }
    },
  })
  gw = await startTestGateway(
    {
      INIT_KEYS: `${up1}::${up.url},${up2}::${up.url}::anthropic`,
      LOG_LEVEL: 'debug',
      USER_API_MIN_BALANCE: '20',
      API_LISTEN: '127.0.0.1:0',
      API_SERVICES: 'StatsService,HandlerService,LoggerService',
    },
    { log: createLogger({ file: LOG_FILE, level: 'debug' }) },
  )
  accountKeys.push(gw.rootKey)
})

afterAll(async () => {
  await gw?.close()
  await up?.stop()
  rmSync(logDir, { recursive: true, force: true })
})

describe('a whole scenario', () => {
  test('accounts, keys, calls, failures, rotation, settings, control mirror', async () => {
    const root = gw.rootKey
    const add = async (parentKey: string, name: string, credit: number) => {
      const body = { Name: name, Email: `${name}@example.com`, CreditGranted: credit }
      const before = [...accountKeys]
      const r = await call(gw, 'POST', '/x-users', { key: parentKey, body })
      seen.push({
        what: `create ${name}`,
        status: r.status,
        text: r.text,
        showsKeyOnce: true,
        before,
      })
      expect(r.status, r.text).toBe(200)
      accountKeys.push(r.body.User.SecretKey)
      return { id: r.body.User.ID as number, key: r.body.User.SecretKey as string }
    }
    A = await add(root, 'secrets-a', 500)
    A1 = await add(A.key, 'secrets-a1', 100)

    await must('add key up3', 'POST', '/x-keys', root, {
      SecretKey: up3,
      Provider: up.url,
      Weight: 5,
    })
    const k4 = await must('add key up4', 'POST', '/x-keys', root, {
      SecretKey: up4,
      Provider: up.url,
    })
    await must('replace up4', 'PUT', `/x-keys/${k4.Key.ID}`, root, { SecretKey: up5 })
    const dup = await req('duplicate', 'POST', '/x-keys', root, {
      SecretKey: up1,
      Provider: up.url,
    })
    expect(dup.status, dup.text).toBe(409)
    await must('smtp', 'POST', '/x-config', root, {
      EMAIL_SMTP: 'smtp.example.com',
      EMAIL_PASS: smtpPass,
    })

    const settings = encode(lookupType('xgate.UpstreamKey'), {
      provider: up.url,
      secret: up6,
      level: 3,
    })
    const outbound = {
      tag: 'mirror-key',
      proxy_settings: {
        type: 'xgate.UpstreamKey',
        value: Buffer.from(settings).toString('base64'),
      },
    }
    await must('AddOutbound', 'POST', '/x-api/HandlerService/AddOutbound', root, { outbound })

    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }
    for (let i = 0; i < 6; i++) await req(`chat ${i}`, 'POST', '/v1/chat/completions', A1.key, chat)
    await req('stream', 'POST', '/v1/chat/completions', A1.key, { ...chat, stream: true })
    const msg = {
      model: 'claude-haiku-4-5',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    }
    await req('messages', 'POST', '/v1/messages', A.key, msg)
    await req('upstream 500', 'POST', '/v1/embeddings', A.key, {
      model: 'text-embedding-3-small',
      input: 'x',
    })
    await req('bad json', 'POST', '/v1/chat/completions', A.key, '{nope')
    await req('near-miss key', 'POST', '/v1/chat/completions', `${A.key.slice(0, -1)}Z`, chat)
    await req('near-miss admin', 'GET', '/x-users', `${root.slice(0, -1)}Z`)
    await req('bad provider', 'POST', '/x-keys', root, {
      SecretKey: `sk-up-${rand(20)}`,
      Provider: 'file:///etc/passwd',
    })

    const today = new Date().toISOString().slice(0, 10)
    const self = await req(
      'rotate A',
      'POST',
      '/x-self',
      A.key,
      { confirm: `${today}-ROTATE-SELF` },
      true,
    )
    expect(self.status, self.text).toBe(200)
    const oldA = A.key
    A.key = self.body.rotate.key
    accountKeys.push(A.key)
    const given = `sk-Xvs${'k'.repeat(5)}${rand(20)}`
    const viaRoot = await req(
      'rotate A1',
      'POST',
      '/x-root',
      root,
      { confirm: `${today}-ROTATE-ROOT`, name: 'secrets-a1', key: given },
      true,
    )
    expect(viaRoot.status, viaRoot.text).toBe(200)
    accountKeys.push(given)
    const taken = await req('rotate to a taken key', 'POST', '/x-root', root, {
      confirm: `${today}-ROTATE-ROOT`,
      name: 'secrets-a1',
      key: A.key,
    })
    expect(taken.status, taken.text).toBe(409)
    await req('old key', 'GET', '/dashboard/x-user-status', oldA)
    await req('gkey', 'GET', '/x-gkey', root, undefined, true)

    for (const path of [
      '/x-users',
      '/x-dna',
      '/x-keys',
      '/x-config',
      '/dashboard/x-user-info',
      '/dashboard/x-user-logs?size=100',
      '/x-bill',
      '/metrics',
    ]) {
      await must(`read ${path}`, 'GET', path, root)
    }
    await must('A reads', 'GET', '/x-dna', A.key)
    await must('ListOutbounds', 'POST', '/x-api/HandlerService/ListOutbounds', root, {})
    await must('GetInboundUsers', 'POST', '/x-api/HandlerService/GetInboundUsers', root, {
      tag: 'openai',
    })
    await must('QueryStats', 'POST', '/x-api/StatsService/QueryStats', root, { pattern: '' })
  })

  test('list answers show SecretKey masked and a short PartialKey only', async () => {
    const users = await call(gw, 'GET', '/x-dna', { key: gw.rootKey })
    for (const u of users.body) {
      expect(u.SecretKey, users.text).toBe('***')
      expect(String(u.PartialKey).length, users.text).toBeLessThanOrEqual(8)
    }
    const keys = await call(gw, 'GET', '/x-keys', { key: gw.rootKey })
    for (const k of keys.body) {
      expect(k.SecretKey, keys.text).toMatch(/^\*\*\*.{0,4}$/)
      expect(String(k.PartialKey).length, keys.text).toBeLessThanOrEqual(4)
    }
    expect(
      keys.body.some((k: any) => k.State === 'disabled'),
      `the quoting provider: ${keys.text}`,
    ).toBe(true)
  })

  test('no answer but the one that mints a key shows a key; none shows an upstream secret', () => {
    expect(seen.length).toBeGreaterThan(30)
    const problems = seen.flatMap((s) => {
      const forbidden = [...UPSTREAM, smtpPass, ...(s.showsKeyOnce ? s.before : accountKeys)]
      const found = leaksIn(s.text, forbidden)
      return found.length
        ? [`${s.what} (${s.status}) shows ${found.join(', ')}: ${s.text.slice(0, 300)}`]
        : []
    })
    expect(problems, problems.join('\n')).toEqual([])
  })

  test('the database files hold no key or secret in the clear', async () => {
    await gw.deps.flusher.flushNow()
    // SQLite: the bytes of the files (free pages and the WAL included). PostgreSQL: every row of
    // every table, as text (its files are the server's).
    let text: string
    if (gw.deps.sql.engine === 'postgres') {
      const tables = await gw.deps.sql.all<{ t: string }>(
        "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'",
      )
      const rows = await Promise.all(tables.map((x) => gw.deps.sql.all(`SELECT * FROM "${x.t}"`)))
      text = JSON.stringify(rows)
    } else {
      const files = ['xgate.db', 'xgate.db-wal', 'xgate.db-shm'].map((f) => join(gw.dataDir, f))
      text = files
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f).toString('latin1'))
        .join('\n')
    }
    expect(text.length).toBeGreaterThan(4096)
    const found = leaksIn(text, [...UPSTREAM, smtpPass, ...accountKeys])
    expect(found, `in the database files: ${found.join(', ')}`).toEqual([])
  })

  test('the log file of the whole run holds no key or secret', () => {
    gw.deps.log.flush()
    const text = readFileSync(LOG_FILE, 'utf8')
    expect(text.split('\n').length, 'the run was logged').toBeGreaterThan(30)
    expect(text).toContain('"msg":"request"')
    const found = leaksIn(text, [...UPSTREAM, smtpPass, ...accountKeys])
    expect(found, `in the log: ${found.join(', ')}`).toEqual([])
  })
})

const BAD_PROVIDERS = [
  'file:///etc/passwd',
  'ftp://example.com/v1',
  'javascript:alert(1)',
  'gopher://example.com:70/',
  'data:text/plain,hello',
  'ws://example.com',
  'example.com',
  'https://example.com/?q=1',
]

describe('Provider URLs other than http(s)', () => {
  test('are refused with 400 on POST and PUT /x-keys, changing nothing', async () => {
    for (const Provider of BAD_PROVIDERS) {
      const secret = `sk-up-${rand(20)}`
      await gw.deps.flusher.flushNow()
      const before = await snapshot(gw.deps.sql)
      const post = await call(gw, 'POST', '/x-keys', {
        key: gw.rootKey,
        body: { SecretKey: secret, Provider },
      })
      const put = await call(gw, 'PUT', '/x-keys/1', { key: gw.rootKey, body: { Provider } })
      await gw.deps.flusher.flushNow()
      expect(diffSnapshots(before, await snapshot(gw.deps.sql)), Provider).toEqual([])
      for (const r of [post, put]) {
        expect(r.status, `${Provider}: ${r.text}`).toBe(400)
        expect(r.body.error.code, r.text).toBe('bad_request')
        expect(r.body.error.message, r.text).toContain('Provider')
        expect(r.text).not.toContain(secret)
      }
    }
  })

  test('in INIT_KEYS stop start-up with one line naming INIT_KEYS and not the secret', async () => {
    for (const provider of BAD_PROVIDERS.slice(0, 5)) {
      const secret = `sk-init-${rand(20)}`
      const dir = tempDir('xgate-initkeys-')
      const r = await runCli(['serve', '--host', '127.0.0.1', '--port', '0'], {
        DATA_DIR: dir,
        INIT_KEYS: `${secret}::${provider}`,
      })
      rmSync(dir, { recursive: true, force: true })
      const what = `${provider}: code ${r.code}, stderr ${r.stderr}, stdout ${r.stdout}`
      expect(r.code, what).toBe(1)
      expect(r.stderr.trim().split('\n'), what).toHaveLength(1)
      expect(r.stderr, what).toContain('INIT_KEYS')
      expect(r.stderr + r.stdout, what).not.toContain(secret)
    }
  })
})
