// Other methods on a known path: 405 with `Allow`, in the surface's (or admin) error shape; an
// unknown path stays a 404.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'

let gw: TestGateway

beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(() => gw.close())

describe('405 Method Not Allowed', () => {
  test('GET /v1/chat/completions: 405, Allow: POST, OpenAI error shape', async () => {
    const r = await call(gw, 'GET', '/v1/chat/completions', { key: gw.rootKey })
    expect(r.status, r.text).toBe(405)
    expect(r.headers.get('allow')).toBe('POST')
    expect(r.body.error).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed' })
    expect(r.body.error.message).toContain('POST')
    expect(r.headers.get('x-request-id')).toBeTruthy()
  })

  test('GET /v1/messages: 405 in the Anthropic error shape', async () => {
    const r = await call(gw, 'GET', '/v1/messages', { key: gw.rootKey })
    expect(r.status, r.text).toBe(405)
    expect(r.headers.get('allow')).toBe('POST')
    expect(r.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
  })

  test('POST /v1/models: 405, Allow: GET', async () => {
    const r = await call(gw, 'POST', '/v1/models', { key: gw.rootKey, body: {} })
    expect(r.status, r.text).toBe(405)
    expect(r.headers.get('allow')).toBe('GET, HEAD')
  })

  test('admin paths: PUT /x-config and GET /x-root list their methods', async () => {
    const c = await call(gw, 'PUT', '/x-config', { key: gw.rootKey, body: {} })
    expect(c.status, c.text).toBe(405)
    expect(c.headers.get('allow')).toBe('DELETE, GET, HEAD, POST')
    expect(c.body.error.code).toBe('method_not_allowed')
    const r = await call(gw, 'GET', '/x-root', { key: gw.rootKey })
    expect(r.status, r.text).toBe(405)
    expect(r.headers.get('allow')).toBe('POST')
    const u = await call(gw, 'PATCH', '/x-users/42', { key: gw.rootKey, body: {} })
    expect(u.status, u.text).toBe(405)
    expect(u.headers.get('allow')).toBe('DELETE, GET, HEAD, POST, PUT')
  })

  test('HEAD is allowed where GET is, and is itself a 405 on a POST-only path', async () => {
    const h = await call(gw, 'HEAD', '/x-config', { key: gw.rootKey })
    expect(h.status).toBe(200)
    const p = await call(gw, 'HEAD', '/v1/chat/completions', { key: gw.rootKey })
    expect(p.status).toBe(405)
    expect(p.headers.get('allow')).toBe('POST')
  })

  test('an admin path without a key is still 401 first', async () => {
    const r = await call(gw, 'PUT', '/x-config', { body: {} })
    expect(r.status, r.text).toBe(401)
  })

  test('an unknown path stays 404', async () => {
    const r = await call(gw, 'GET', '/v1/no-such-thing', { key: gw.rootKey })
    expect(r.status, r.text).toBe(404)
    const a = await call(gw, 'GET', '/x-nothing', { key: gw.rootKey })
    expect(a.status, a.text).toBe(404)
  })
})
