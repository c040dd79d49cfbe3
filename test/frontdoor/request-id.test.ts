// Request ids on each surface: the Anthropic surface answers xgate's id as `request-id` (which its
// SDKs read), the OpenAI surface as `x-request-id`; the provider's own id is `x-upstream-request-id`.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { addAccount, startProxyEnv, type ProxyEnv } from '../proxy/fixtures'

let env: ProxyEnv
let key: string

beforeAll(async () => {
  env = await startProxyEnv()
  key = (await addAccount(env.gw, { creditUsd: 10 })).key
})
afterAll(() => env.close())

const XGATE_ID = /^req_(?!fake_)/

describe('Anthropic surface', () => {
  test("request-id is xgate's id; the provider's is x-upstream-request-id", async () => {
    const client = new Anthropic({ apiKey: key, baseURL: env.gw.url, maxRetries: 0 })
    const { data, response, request_id } = await client.messages
      .create({ model: 'claude-sonnet-4-0', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse()
    expect(data.type).toBe('message')
    const rid = response.headers.get('request-id')
    expect(rid).toBe(response.headers.get('x-request-id'))
    expect(rid).toMatch(XGATE_ID)
    expect(request_id).toBe(rid)
    expect(response.headers.get('x-upstream-request-id')).toMatch(/^req_fake_/)
  })

  test('errors answered by xgate carry request-id too', async () => {
    const res = await fetch(env.gw.url + '/v1/messages', {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: '{not json',
    })
    expect(res.status).toBe(400)
    expect(res.headers.get('request-id')).toMatch(XGATE_ID)
    expect(res.headers.get('request-id')).toBe(res.headers.get('x-request-id'))
  })

  test('GET /v1/models in the Anthropic form carries request-id', async () => {
    const res = await fetch(env.gw.url + '/v1/models', {
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('request-id')).toMatch(XGATE_ID)
  })
})

describe('OpenAI surface', () => {
  test("x-request-id is xgate's id, no request-id; the provider's is x-upstream-request-id", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    const { response, request_id } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse()
    expect(response.headers.get('x-request-id')).toMatch(XGATE_ID)
    expect(request_id).toBe(response.headers.get('x-request-id'))
    expect(response.headers.get('request-id')).toBeNull()
    expect(response.headers.get('x-upstream-request-id')).toMatch(/^req_fake_/)
  })
})
