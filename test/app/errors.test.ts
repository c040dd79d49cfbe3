import { afterAll, describe, expect, test } from 'bun:test'
import { t as T } from 'elysia'
import { AppError } from '../../src/shared/errors'
import { makeTestApp } from '../helpers/app'
import { call, startTestGateway } from '../helpers/gateway'

const t = await makeTestApp()
const app = t.app
  .post('/x-echo', ({ body }) => body, { body: T.Object({ Name: T.String({ minLength: 4 }), CreditGranted: T.Number() }) })
  .get('/x-boom', () => {
    throw new Error('secret internals at /home/x/file.ts:12')
  })
  .get('/x-denied', () => {
    throw new AppError('forbidden', 'only root may do this')
  })
afterAll(() => t.close())

const send = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
  const res = await app.handle(new Request(`http://localhost${path}`, { method, body, headers: { 'content-type': 'application/json', ...headers } }))
  const text = await res.text()
  return { status: res.status, text, body: JSON.parse(text) as any }
}

describe('error shapes', () => {
  test('unknown route: 404 in the OpenAI shape, Anthropic shape under /v1/messages', async () => {
    const a = await send('GET', '/nope')
    expect(a.status).toBe(404)
    expect(a.body).toEqual({ error: { message: 'no such route', type: 'not_found_error', code: 'not_found' } })
    const b = await send('GET', '/v1/messages/nope')
    expect(b.status).toBe(404)
    expect(b.body).toEqual({ type: 'error', error: { type: 'not_found_error', message: 'no such route' } })
  })

  test('malformed JSON is a 400 invalid_json', async () => {
    const r = await send('POST', '/x-echo', '{"Name": ')
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.code).toBe('invalid_json')
  })

  test('wrong types and missing fields are a 400 naming the field', async () => {
    const wrong = await send('POST', '/x-echo', JSON.stringify({ Name: 'abcd', CreditGranted: 'ten' }))
    expect(wrong.status, wrong.text).toBe(400)
    expect(wrong.body.error.code).toBe('bad_request')
    expect(wrong.body.error.message).toContain('CreditGranted')
    const short = await send('POST', '/x-echo', JSON.stringify({ Name: 'ab', CreditGranted: 1 }))
    expect(short.status).toBe(400)
    expect(short.body.error.message).toContain('Name')
    const missing = await send('POST', '/x-echo', JSON.stringify({ Name: 'abcd' }))
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toContain('CreditGranted')
  })

  test('an unexpected throw is a 500 without internals; the log keeps them', async () => {
    const r = await send('GET', '/x-boom')
    expect(r.status).toBe(500)
    expect(r.body).toEqual({ error: { message: 'internal error', type: 'server_error', code: 'internal_error' } })
    expect(r.text).not.toContain('file.ts')
    expect(t.log.lines.some((l) => String(l.error).includes('secret internals'))).toBe(true)
  })

  test('an AppError keeps its status and code', async () => {
    const r = await send('GET', '/x-denied')
    expect(r.status).toBe(403)
    expect(r.body.error).toEqual({ message: 'only root may do this', type: 'permission_error', code: 'forbidden' })
  })
})

describe('over the network', () => {
  test('oversize bodies are 413 in the error shape, for admin and proxy paths', async () => {
    const gw = await startTestGateway({ ADMIN_MAX_BODY_BYTES: '2048', MAX_BODY_BYTES: '65536' })
    try {
      const admin = await call(gw, 'POST', '/x-users', { key: gw.rootKey, body: 'x'.repeat(5000) })
      expect(admin.status, admin.text).toBe(413)
      expect(admin.body.error.code).toBe('payload_too_large')
      const proxy = await call(gw, 'POST', '/v1/messages', { key: gw.rootKey, body: 'x'.repeat(100_000) })
      expect(proxy.status, proxy.text).toBe(413)
      const health = await call(gw, 'GET', '/healthz')
      expect(health.status).toBe(200)
      expect(health.headers.get('x-request-id')).toMatch(/^req_/)
    } finally {
      await gw.close()
    }
  })
})
