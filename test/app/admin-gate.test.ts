// Every admin path checks the key before anything else: a bad key is 401 whatever the body.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'

let gw: TestGateway
beforeAll(async () => {
  gw = await startTestGateway({ ADMIN_MAX_BODY_BYTES: '2048' })
})
afterAll(() => gw.close())

const ROUTES: Array<[string, string]> = [
  ['POST', '/x-users'],
  ['PUT', '/x-users/2'],
  ['POST', '/x-keys'],
  ['POST', '/x-config'],
  ['POST', '/x-news'],
  ['POST', '/x-self'],
  ['POST', '/x-root'],
  ['GET', '/dashboard/x-user-info'],
]

describe('admin gate', () => {
  test.each(ROUTES)('%s %s: a bad key with a malformed body is 401, not 400', async (method, path) => {
    const r = await call(gw, method, path, { key: 'sk-XvsNOTAKEY', body: method === 'GET' ? undefined : '{"x": [1,' })
    expect(r.status, r.text).toBe(401)
    expect(r.body.error.code).toBe('invalid_api_key')
  })

  test('no key at all is 401 missing_api_key', async () => {
    const r = await call(gw, 'POST', '/x-users', { body: '{' })
    expect(r.status, r.text).toBe(401)
    expect(r.body.error.code).toBe('missing_api_key')
  })

  test('a good key with a malformed body is 400 invalid_json; oversize is 413', async () => {
    const bad = await call(gw, 'POST', '/x-users', { key: gw.rootKey, body: '{"x": [1,' })
    expect(bad.status, bad.text).toBe(400)
    expect(bad.body.error.code).toBe('invalid_json')
    const big = await call(gw, 'POST', '/x-users', { key: gw.rootKey, body: 'x'.repeat(5000) })
    expect(big.status, big.text).toBe(413)
  })
})
