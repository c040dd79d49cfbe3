// /swagger/json documents every subaccount and log route with a summary, a tag and the models.
import { expect, test } from 'bun:test'
import { useGateway } from './helpers'

const h = useGateway()

test('the OpenAPI document lists the subaccount API with summaries, tags and field names', async () => {
  const r = await h.req('GET', '/swagger/json', h.gw.rootKey)
  expect(r.status, r.text.slice(0, 500)).toBe(200)
  const paths = r.body.paths
  const routes: Array<[string, string]> = [
    ['/x-users', 'post'],
    ['/x-users', 'get'],
    ['/x-users/{id}', 'get'],
    ['/x-users/{id}', 'put'],
    ['/x-users/{id}', 'post'],
    ['/x-users/{id}', 'delete'],
    ['/x-dna', 'get'],
    ['/x-dna/{id}', 'get'],
    ['/dashboard/x-user-logs', 'get'],
  ]
  for (const [path, method] of routes) {
    const op = paths[path]?.[method]
    expect(op, `${method} ${path} in ${Object.keys(paths).join(' ')}`).toBeDefined()
    expect(op.summary, `${method} ${path}`).toBeString()
    expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0)
  }
  const create = JSON.stringify(paths['/x-users'].post)
  for (const f of [
    'Name',
    'Email',
    'CreditGranted',
    'Days',
    'Rates',
    'AllowIPs',
    'ModelLimits',
    'HardLimit',
  ]) {
    expect(create, f).toContain(`"${f}"`)
  }
})
