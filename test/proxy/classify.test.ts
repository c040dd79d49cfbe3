// The failover class of an upstream status: answers go to the client, refusals disable the key,
// overload and server errors move on to the next key.
import { expect, test } from 'bun:test'
import { classify } from '../../src/proxy/upstream'

test('statuses: 2xx/3xx/4xx answer; 401/403 refused; 429/5xx/529 retry', () => {
  for (const s of [200, 201, 204, 301, 400, 404, 409, 413, 422]) expect(classify(s)).toBe('answer')
  for (const s of [401, 403]) expect(classify(s)).toBe('refused')
  for (const s of [429, 500, 502, 503, 504, 529]) expect(classify(s)).toBe('retry')
})
