// Admin bodies are read as JSON whatever their Content-Type (curl -d sends a form type); a body
// that is not JSON is a 400 saying so.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway'

let gw: TestGateway

beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(() => gw.close())

const post = async (path: string, body: string, type?: string) => {
  const headers: Record<string, string> = { authorization: `Bearer ${gw.rootKey}` }
  if (type) headers['content-type'] = type
  const res = await fetch(gw.url + path, { method: 'POST', headers, body })
  const text = await res.text()
  return { status: res.status, text, body: JSON.parse(text) }
}

describe('admin bodies are JSON whatever the Content-Type', () => {
  test('POST /x-users with curl -d (application/x-www-form-urlencoded) creates the user', async () => {
    const body = JSON.stringify({ Name: 'formuser', Email: 'a@b.c', CreditGranted: 5 })
    const r = await post('/x-users', body, 'application/x-www-form-urlencoded')
    expect(r.status, r.text).toBe(200)
    expect(r.body.Action).toBe('add')
    expect(r.body.User.Name).toBe('formuser')
  })

  test('text/plain and form-typed bodies elsewhere are read as JSON too', async () => {
    const a = await post('/x-users', JSON.stringify({ Name: 'plainuser', Email: 'p@b.c', CreditGranted: 5 }), 'text/plain')
    expect(a.status, a.text).toBe(200)
    const b = await post('/x-news', JSON.stringify({ title: 'Hello', content: 'World' }), 'application/x-www-form-urlencoded')
    expect(b.status, b.text).toBe(200)
  })

  test('a body that is not JSON is a 400 that says so', async () => {
    const r = await post('/x-users', 'Name=x&Email=y', 'application/x-www-form-urlencoded')
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.code).toBe('invalid_json')
    expect(r.body.error.message).toContain('JSON')
  })

  test("a broken JSON body: the 400 gives the parser's reason", async () => {
    const r = await post('/x-users', '{"Name":"x",', 'application/x-www-form-urlencoded')
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.code).toBe('invalid_json')
    expect(r.body.error.message).toMatch(/^request body is not valid JSON \(.+\)$/)
    expect(r.body.error.message).not.toContain('JSON Parse error')
  })
})
