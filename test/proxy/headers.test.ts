// Header hygiene both ways: hop-by-hop and client-only headers never reach the provider, the pool
// key's credentials replace the client's, and the provider's identities stay with the gateway.
import { beforeEach, describe, expect, test } from 'bun:test'
import type { PoolKey } from '../../src/keys/pool'
import { clientHeaders, upstreamHeaders } from '../../src/proxy/headers'

const openaiKey = { type: 'openai', secret: 'sk-pool-openai' } as PoolKey
const anthropicKey = { type: 'anthropic', secret: 'sk-pool-anthropic' } as PoolKey

const entries = (h: Headers) => Object.fromEntries((h as any).entries())

describe('upstreamHeaders', () => {
  const received = new Headers({
    host: 'gateway.local',
    connection: 'keep-alive, x-hop, , bad name',
    'x-hop': 'dropped because Connection names it',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    'content-length': '74',
    'content-type': 'text/plain',
    'accept-encoding': 'gzip, br',
    authorization: 'Bearer sk-Xvs-client-key',
    'x-api-key': 'sk-Xvs-client-key',
    cookie: 'a=b',
    'x-forwarded-for': '10.0.0.1',
    'x-real-ip': '10.0.0.2',
    forwarded: 'for=10.0.0.3',
    'x-request-id': 'client-id',
    te: 'trailers',
    expect: '100-continue',
    'openai-organization': 'org-client',
    'openai-project': 'proj-client',
    'user-agent': 'OpenAI/JS 5.0',
    'x-stainless-lang': 'js',
    'anthropic-beta': 'tools-2024',
  })
  // upstreamHeaders cleans the object it is given: each test gets its own copy.
  let client = new Headers(received)
  beforeEach(() => {
    client = new Headers(received)
  })

  test('openai key: client headers cleaned, Bearer of the pool key, identity encoding', () => {
    expect(entries(upstreamHeaders(client, openaiKey, 'application/json'))).toEqual({
      'user-agent': 'OpenAI/JS 5.0',
      'x-stainless-lang': 'js',
      'anthropic-beta': 'tools-2024',
      'content-type': 'application/json',
      'accept-encoding': 'identity',
      authorization: 'Bearer sk-pool-openai',
    })
  })

  test('cleans in place and idempotently: a failover attempt may clean the same object again', () => {
    const once = entries(upstreamHeaders(client, openaiKey, 'application/json'))
    const again = upstreamHeaders(client, openaiKey, 'application/json')
    expect(again).toBe(client)
    expect(entries(again)).toEqual(once)
  })

  test('anthropic key: x-api-key, a default anthropic-version unless the client sent one', () => {
    const h = upstreamHeaders(client, anthropicKey, null)
    expect(h.get('x-api-key')).toBe('sk-pool-anthropic')
    expect(h.get('authorization')).toBeNull()
    expect(h.get('anthropic-version')).toBe('2023-06-01')
    expect(h.get('content-type')).toBe('text/plain')
    const own = new Headers({ 'anthropic-version': '2024-01-01' })
    expect(upstreamHeaders(own, anthropicKey, null).get('anthropic-version')).toBe('2024-01-01')
  })

  test('unusual names pass through; only listed ones are removed', () => {
    const h = upstreamHeaders(
      new Headers([
        ['__proto__', 'x'],
        ['constructor', 'y'],
        ['openai-beta', 'assistants=v2'],
      ]),
      openaiKey,
      null,
    )
    expect(h.get('__proto__')).toBe('x')
    expect(h.get('constructor')).toBe('y')
    expect(h.get('openai-beta')).toBe('assistants=v2')
  })
})

describe('clientHeaders', () => {
  test('framing and provider identities dropped; the upstream request id kept under a new name', () => {
    const up = new Headers({
      'content-type': 'application/json',
      'content-length': '300',
      'content-encoding': 'gzip',
      'transfer-encoding': 'chunked',
      'openai-organization': 'org-gateway',
      'set-cookie': 'a=b',
      'x-request-id': 'req_up_1',
      'x-ratelimit-remaining-requests': '99',
    })
    const h = clientHeaders(up)
    expect(entries(h)).toEqual({
      'content-type': 'application/json',
      'x-ratelimit-remaining-requests': '99',
      'x-upstream-request-id': 'req_up_1',
    })
  })

  test("xgate's request id is x-request-id; Anthropic's request-id moves to x-upstream-request-id", () => {
    const up = new Headers({ 'content-type': 'application/json', 'request-id': 'req_up_2' })
    expect(entries(clientHeaders(up, 'req_gateway_1'))).toEqual({
      'content-type': 'application/json',
      'x-upstream-request-id': 'req_up_2',
      'x-request-id': 'req_gateway_1',
    })
  })
})
