// toOpenApi30 on small documents: one case per rewrite the plugin's output needs.
import { expect, test } from 'bun:test'
import { errorStatuses } from '../../src/docs/errors'
import { toOpenApi30 } from '../../src/docs/openapi'

const schema = { type: 'object', properties: { n: { type: 'integer' } } }
const forms = {
  'application/json': { schema },
  'multipart/form-data': { schema },
  'text/plain': { schema },
}
const raw = () => ({
  openapi: '3.0.3',
  info: { title: 'xgate', version: '0' },
  paths: {
    '/x-keys/': { get: { operationId: 'getX-keys', summary: 'list (slash)' } },
    '/x-keys': {
      get: { operationId: 'getX-keys', summary: 'list', responses: { 200: {} } },
      post: { operationId: 'getX-keys', requestBody: { content: forms } },
    },
    '/x-self': { post: { tags: ['Keys'], requestBody: { content: forms } } },
    '/v1/audio/transcriptions': {
      post: { requestBody: { content: { 'multipart/form-data': { schema: {} } } } },
    },
  },
})

test('the input is left as it was', () => {
  const input = raw()
  const copy = structuredClone(input)
  toOpenApi30(input, { today: '2025-01-15' })
  expect(input).toEqual(copy)
})

test('a trailing-slash twin is folded into its path and named in its description', () => {
  const doc = toOpenApi30(raw())
  expect(Object.keys(doc.paths)).not.toContain('/x-keys/')
  expect(doc.paths['/x-keys'].get.summary).toBe('list')
  expect(doc.paths['/x-keys'].get.description).toContain('`/x-keys/`')
})

test('operationIds are unique and URL-safe', () => {
  const doc = toOpenApi30(raw())
  expect(doc.paths['/x-keys'].get.operationId).toBe('getXKeys')
  expect(doc.paths['/x-keys'].post.operationId).toBe('getXKeys2')
  expect(doc.paths['/x-self'].post.operationId).toBe('postXSelf')
})

test('admin bodies keep only JSON, with the example; a proxied multipart body stays', () => {
  const doc = toOpenApi30(raw(), { today: '2025-01-15' })
  const self = doc.paths['/x-self'].post
  expect(Object.keys(self.requestBody.content)).toEqual(['application/json'])
  expect(self.requestBody.content['application/json'].example).toEqual({
    confirm: '2025-01-15-ROTATE-SELF',
  })
  expect(self.tags).toEqual(['Account keys'])
  const audio = doc.paths['/v1/audio/transcriptions'].post.requestBody.content
  expect(Object.keys(audio)).toEqual(['multipart/form-data'])
})

test('answers are described and errors refer to the shared components', () => {
  const doc = toOpenApi30(raw())
  const list = doc.paths['/x-keys'].get.responses
  expect(list['200']).toEqual({ description: 'OK' })
  expect(list['401']).toEqual({ $ref: '#/components/responses/Unauthorized' })
  expect(doc.components.responses.Unauthorized.description).toBeTruthy()
  const audio = doc.paths['/v1/audio/transcriptions'].post.responses
  expect(audio['402']).toEqual({ $ref: '#/components/responses/PaymentRequired' })
  expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }])
})

test('each surface lists the errors it can answer', () => {
  const body = { requestBody: {} }
  expect(errorStatuses('/healthz', 'get', { security: [] })).toEqual([])
  expect(errorStatuses('/v1/chat/completions', 'post', body)).toEqual([
    '400',
    '401',
    '402',
    '403',
    '408',
    '413',
    '429',
    '502',
    '503',
    '504',
  ])
  const path = [{ in: 'path', name: 'id' }]
  expect(errorStatuses('/v1/models/{id}', 'get', { parameters: path })).toEqual([
    '401',
    '403',
    '404',
  ])
  // Admin and dashboard routes read the store: 503 store_unavailable while it is unreachable.
  expect(errorStatuses('/x-users', 'post', body)).toEqual([
    '400',
    '401',
    '403',
    '404',
    '408',
    '409',
    '413',
    '503',
  ])
  expect(errorStatuses('/x-gkey', 'get', {})).toEqual(['400', '401', '403', '404', '503'])
  expect(errorStatuses('/dashboard/x-user-info', 'get', {})).toEqual(['401', '403', '503'])
  // A `u` query names a descendant: 404 outside the caller's subtree.
  const u = [{ in: 'query', name: 'u' }]
  expect(errorStatuses('/dashboard/x-user-requests', 'get', { parameters: u })).toEqual([
    '400',
    '401',
    '403',
    '404',
    '503',
  ])
})
