// Regression tests for the bugs the reliability tests (authz, fuzz, secrets) found in xgate, one
// `describe` per bug, each small enough to read without the property that found it.
import { describe, expect, test } from 'bun:test'
import { loadStoredSettings } from '../../src/settings/repo'
import { createSettings } from '../../src/settings/service'
import { createEvents } from '../../src/shared/events'
import { makeTestApp } from '../helpers/app'
import { call, startTestGateway } from '../helpers/gateway'
import {
  addAccount,
  cardsNano,
  OPENAI_SECRET,
  startProxyEnv,
  until,
  usageRows,
} from '../proxy/fixtures'

describe('a second app in one process after /swagger was served', () => {
  test('builds and serves /swagger again', async () => {
    const first = await makeTestApp()
    const page = await first.app.handle(new Request('http://localhost/swagger'))
    expect(page.status, await page.text()).toBe(200)
    await first.close()
    const second = await makeTestApp()
    const again = await second.app.handle(new Request('http://localhost/swagger'))
    expect(again.status, await again.text()).toBe(200)
    await second.close()
  })
})

describe('GET /v1/models under a disabled ancestor', () => {
  test('answers 401 account_disabled, as every proxied call does', async () => {
    const t = await makeTestApp({ USER_API_MIN_BALANCE: '0' })
    const send = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await t.app.handle(t.request(method, path, { key, body }))
      return { status: res.status, text: await res.text() }
    }
    const add = async (key: string, name: string) => {
      const r = await send('POST', '/x-users', key, {
        Name: name,
        Email: `${name}@example.com`,
        CreditGranted: 50,
      })
      expect(r.status, r.text).toBe(200)
      return JSON.parse(r.text).User as { ID: number; SecretKey: string }
    }
    const parent = await add(t.rootKey, 'models-parent')
    const child = await add(parent.SecretKey, 'models-child')
    expect((await send('GET', '/v1/models', child.SecretKey)).status).toBe(200)
    const off = await send('PUT', `/x-users/${parent.ID}`, t.rootKey, { Status: false })
    expect(off.status, off.text).toBe(200)
    const r = await send('GET', '/v1/models', child.SecretKey)
    expect(r.status, r.text).toBe(401)
    expect(JSON.parse(r.text).error.code, r.text).toBe('account_disabled')
    await t.close()
  })
})

describe('root-only routes called from under a disabled ancestor', () => {
  test('answer 401 account_disabled, not 403, like every other admin route', async () => {
    const t = await makeTestApp({ USER_API_MIN_BALANCE: '0', API_SERVICES: 'StatsService' })
    const send = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await t.app.handle(t.request(method, path, { key, body }))
      return { status: res.status, text: await res.text() }
    }
    const made: Array<{ ID: number; SecretKey: string }> = []
    for (const [i, name] of ['rootonly-parent', 'rootonly-child'].entries()) {
      const key = i === 0 ? t.rootKey : made[0]!.SecretKey
      const r = await send('POST', '/x-users', key, {
        Name: name,
        Email: `${name}@example.com`,
        CreditGranted: 50,
      })
      expect(r.status, r.text).toBe(200)
      made.push(JSON.parse(r.text).User)
    }
    const off = await send('PUT', `/x-users/${made[0]!.ID}`, t.rootKey, { Status: false })
    expect(off.status, off.text).toBe(200)
    for (const [method, path] of [
      ['GET', '/x-keys'],
      ['GET', '/x-gkey'],
      ['GET', '/metrics'],
      ['POST', '/x-api/StatsService/QueryStats'],
    ] as const) {
      const r = await send(method, path, made[1]!.SecretKey, method === 'POST' ? {} : undefined)
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(401)
      expect(JSON.parse(r.text).error.code, r.text).toBe('account_disabled')
    }
    await t.close()
  })
})

describe('bodies over the limit', () => {
  /** A body sent with Transfer-Encoding: chunked (no Content-Length), 4 KiB at a time. */
  const chunked = (text: string) => {
    const bytes = new TextEncoder().encode(text)
    let at = 0
    return new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= bytes.length) return c.close()
        c.enqueue(bytes.slice(at, (at += 4096)))
      },
    })
  }

  test('413 in the error shape on every surface, with or without a declared length', async () => {
    const gw = await startTestGateway({ ADMIN_MAX_BODY_BYTES: '16384', MAX_BODY_BYTES: '65536' })
    const post = async (path: string, body: BodyInit) => {
      const res = await fetch(gw.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.rootKey}`, 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit)
      const text = await res.text()
      return { status: res.status, text, type: res.headers.get('content-type') }
    }
    try {
      const user = (alias: string) =>
        JSON.stringify({
          Name: 'limit-user',
          Email: 'limit@example.com',
          CreditGranted: 5,
          Alias: alias,
        })
      const admin = user('a'.repeat(40_000))
      const chat = JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'a'.repeat(80_000) }],
      })
      for (const [path, text, shape] of [
        ['/x-users', admin, 'openai'],
        ['/v1/chat/completions', chat, 'openai'],
        ['/v1/messages', chat, 'anthropic'],
      ] as const) {
        for (const body of [text, chunked(text)]) {
          const r = await post(path, body)
          const how = typeof body === 'string' ? 'with a length' : 'chunked'
          const what = `${path} ${how}: ${r.text}`
          expect(r.status, what).toBe(413)
          expect(r.type, what).toContain('application/json')
          const parsed = JSON.parse(r.text)
          if (shape === 'anthropic') expect(parsed.error.type, what).toBe('request_too_large')
          else expect(parsed.error.code, what).toBe('payload_too_large')
        }
      }
      const small = await post('/x-users', chunked(user('fits')))
      expect(small.status, small.text).toBe(200)
    } finally {
      await gw.close()
    }
  })
})

describe('/x-api with a method that does not exist', () => {
  test('answers 404 not_found, not 501: an unknown route is the caller error', async () => {
    const t = await makeTestApp({ API_SERVICES: 'StatsService,HandlerService' })
    for (const path of [
      '/x-api/StatsService/NoSuch',
      '/x-api/StatsService/%00',
      '/x-api/foo.StatsService/QueryStats',
    ]) {
      const res = await t.app.handle(t.request('POST', path, { key: t.rootKey, body: {} }))
      const text = await res.text()
      expect(res.status, `${path}: ${text}`).toBe(404)
      expect(JSON.parse(text).error.code, text).toBe('not_found')
    }
    const known = await t.app.handle(
      t.request('POST', '/x-api/HandlerService/AddInbound', { key: t.rootKey, body: {} }),
    )
    expect(known.status, 'AddInbound stays UNIMPLEMENTED (§9)').toBe(501)
    await t.close()
  })
})

describe('deeply nested JSON in an admin body', () => {
  test('is a 400 naming the body, not a 500 from the validator running out of stack', async () => {
    const t = await makeTestApp()
    for (const [method, path, field, open, close] of [
      ['POST', '/x-users', 'Name', '[', ']'],
      ['POST', '/x-users', 'Name', '{"a":', '}'],
      ['PUT', '/x-users/1', 'AllowIPs', '[', ']'],
      ['POST', '/x-config', 'MODEL_LIMITS', '{"a":', '}'],
    ] as const) {
      const n = 5000
      const inner = open === '[' ? '' : '1'
      const body = `{"${field}":${open.repeat(n)}${inner}${close.repeat(n)}}`
      const res = await t.app.handle(t.request(method, path, { key: t.rootKey, body }))
      const text = await res.text()
      expect(res.status, `${method} ${path} ${field}: ${text}`).toBe(400)
      expect(JSON.parse(text).error.code, text).toBe('bad_request')
    }
    const ok = await t.app.handle(
      t.request('POST', '/x-config', {
        key: t.rootKey,
        body: { MODEL_LIMITS: { 'gpt-4o-mini': { rpm: 5, tpm: 1000 } } },
      }),
    )
    expect(ok.status, await ok.text()).toBe(200)
    await t.close()
  })
})

describe('a body key JavaScript gives a meaning (toString, __proto__)', () => {
  test('is a 400, not a 500 from the validator printing the value', async () => {
    const t = await makeTestApp()
    for (const [method, path, body] of [
      ['POST', '/x-news', '{"title":{"toString":0},"content":"c"}'],
      ['POST', '/x-users', '{"Name":[{"toString":1}],"Email":"a@example.com","CreditGranted":5}'],
      ['POST', '/x-keys', '{"SecretKey":{"valueOf":{}},"Provider":"https://api.openai.com"}'],
      ['PUT', '/x-users/1', '{"__proto__":{"Level":1}}'],
    ] as const) {
      const res = await t.app.handle(t.request(method, path, { key: t.rootKey, body }))
      const text = await res.text()
      expect(res.status, `${method} ${path} ${body}: ${text}`).toBe(400)
      expect(JSON.parse(text).error.code, text).toBe('bad_request')
    }
    await t.close()
  })
})

describe('an image call with an absurd n', () => {
  test('is billed for at most 10 images (the provider limit), and at least 1', async () => {
    const env = await startProxyEnv()
    try {
      const { key, account } = await addAccount(env.gw, { creditUsd: 100 })
      const perImageNano = 20_000_000 // dall-e-2: 0.02 USD per image
      for (const [n, billed] of [
        [1e300, 10],
        [11, 10],
        [1e-9, 1],
        [-5, 1],
        [3, 3],
      ] as const) {
        const before = await cardsNano(env.gw, account.id)
        const rows = (await usageRows(env.gw, account.id)).length
        const r = await call(env.gw, 'POST', '/v1/images/generations', {
          key,
          body: { model: 'dall-e-2', prompt: 'a cat', n },
        })
        expect(r.status, `n=${n}: ${r.text}`).toBe(200)
        await until(async () => (await usageRows(env.gw, account.id)).length > rows)
        await env.gw.deps.flusher.flushNow()
        expect(before - await cardsNano(env.gw, account.id), `n=${n}`).toBe(billed * perImageNano)
      }
    } finally {
      await env.close()
    }
  })
})

describe('a provider refusing a key and quoting it', () => {
  test('the key is disabled with the quote masked, in GET /x-keys and the database', async () => {
    const env = await startProxyEnv(
      {},
      {
        behavior: (r) =>
          r.path === '/v1/chat/completions'
            ? {
                status: 401,
                message: `Incorrect API key provided: ${r.key} (${r.key.slice(0, 14)}…)`,
              }
            : undefined,
      },
    )
    try {
      const { key } = await addAccount(env.gw)
      const r = await call(env.gw, 'POST', '/v1/chat/completions', {
        key,
        body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      })
      expect(r.status, r.text).toBe(502)
      const keys = await call(env.gw, 'GET', '/x-keys', { key: env.gw.rootKey })
      const refused = keys.body.find((k: any) => k.State === 'disabled')
      expect(refused?.DisabledReason, keys.text).toContain('Incorrect API key provided: ***')
      expect(keys.text).not.toContain(OPENAI_SECRET.slice(0, 14))
      await env.gw.deps.flusher.flushNow()
      const rows = JSON.stringify((await env.gw.deps.sql.all('SELECT * FROM upstream_keys')))
      expect(rows).not.toContain(OPENAI_SECRET.slice(0, 14))
    } finally {
      await env.close()
    }
  })
})

describe('EMAIL_PASS set through /x-config', () => {
  test('is sealed in the database and read back after a restart of the settings', async () => {
    const t = await makeTestApp()
    const pass = 'smtp-pass-5a1e7c9d'
    const r = await t.app.handle(
      t.request('POST', '/x-config', { key: t.rootKey, body: { EMAIL_PASS: pass } }),
    )
    expect(r.status, await r.text()).toBe(200)
    const rows = JSON.stringify(await t.store.sql.all('SELECT * FROM settings'))
    expect(rows).toContain('EMAIL_PASS')
    expect(rows).not.toContain(pass)
    const again = createSettings(t.deps.config, await loadStoredSettings(t.deps.sql), createEvents())
    expect(again.mail().pass).toBe(pass)
    await t.close()
  })
})
