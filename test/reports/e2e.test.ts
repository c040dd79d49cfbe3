// End to end on a real gateway and a fake provider: proxied calls show up in /x-bill, the
// dashboard and /dashboard/bill; a /x-config change is used by the very next proxied call.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { call } from '../helpers/gateway'
import { addAccount, startProxyEnv, type ProxyEnv } from '../proxy/fixtures'

let env: ProxyEnv
let client: OpenAI
let user: { key: string; account: { id: number; name: string } }

beforeAll(async () => {
  env = await startProxyEnv()
  user = await addAccount(env.gw, { creditUsd: 10 })
  client = new OpenAI({ apiKey: user.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
})
afterAll(() => env.close())

const chat = (model: string) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })

test('a proxied call is in /x-bill, /dashboard/bill and the dashboard at once', async () => {
  await chat('gpt-4o-mini')
  const bill = await call(env.gw, 'GET', '/x-bill?days=1', { key: env.gw.rootKey })
  expect(bill.status, bill.text).toBe(200)
  const details = bill.body.data[0].usage_details
  expect(details['gpt-4o-mini'], bill.text).toMatchObject({ requests: 1 })
  expect(details['gpt-4o-mini'].cost).toBeGreaterThan(0)
  expect(bill.body.usage_users).toEqual([
    expect.objectContaining({ id: user.account.id, total_requests: 1 }),
  ])
  const own = await call(env.gw, 'GET', '/dashboard/bill?days=1', { key: user.key })
  expect(own.body.total_usage).toEqual(bill.body.total_usage)
  const info = await call(env.gw, 'GET', '/dashboard/x-user-info', { key: user.key })
  expect(info.body.Usage.Today.requests, info.text).toBe(1)
  expect(info.body.Balance).toBeCloseTo(10 - bill.body.total_usage.cost, 9)
  const status = await call(env.gw, 'GET', '/dashboard/x-user-status', { key: user.key })
  expect(status.body.balance).toBe(info.body.Balance)
})

test('a MODEL_MAPPER set through /x-config maps the next call', async () => {
  const set = await call(env.gw, 'POST', '/x-config', {
    key: env.gw.rootKey,
    body: { MODEL_MAPPER: 'house-*=gpt-4o' },
  })
  expect(set.status, set.text).toBe(200)
  await chat('house-default')
  const bill = await call(env.gw, 'GET', '/x-bill?days=1', { key: env.gw.rootKey })
  expect(bill.body.data[0].usage_details['gpt-4o'], bill.text).toMatchObject({ requests: 1 })
})
