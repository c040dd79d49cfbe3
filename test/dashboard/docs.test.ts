// The new dashboard reads as /swagger documents them: GET /dashboard/x-user-requests with its
// parameters and answers, and LimitUse in the x-user-info schema.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway'

let gw: TestGateway
let doc: any
beforeAll(async () => {
  gw = await startTestGateway()
  doc = await (await fetch(`${gw.url}/swagger/json`)).json()
})
afterAll(() => gw?.close())

test('GET /dashboard/x-user-requests: its query, its answer, its errors, under Dashboard', () => {
  const op = doc.paths['/dashboard/x-user-requests']?.get
  expect(op, Object.keys(doc.paths).join(' ')).toBeDefined()
  expect(op.tags).toEqual(['Dashboard'])
  expect(op.summary).toContain('within the retention period')
  const params = op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)
  for (const p of ['page', 'size', 'model', 'status', 'u']) expect(params).toContain(`query:${p}`)
  const ok = JSON.stringify(op.responses['200'])
  for (const f of ['has_more', 'retention_days', 'mapped_model', 'ttfb_ms', 'estimated'])
    expect(ok).toContain(f)
  for (const s of ['400', '401']) expect(Object.keys(op.responses)).toContain(s)
  // The subtree rule is stated: an account outside it answers 404.
  expect(op.description).toContain('404 when `u` names no account in your subtree')
})

test('GET /dashboard/x-user-info documents LimitUse', () => {
  const ok = JSON.stringify(doc.paths['/dashboard/x-user-info'].get.responses['200'])
  expect(ok).toContain('LimitUse')
  expect(ok).toContain('Concurrency')
})

test('the console itself is not an API operation', () => {
  expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([])
})
