// ALLOW_UNPRICED_MODELS: an unpriced model is forwarded and costs nothing (recorded, not charged).
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { addAccount, cardsNano, startProxyEnv, usageRows, type ProxyEnv } from './fixtures'

let env: ProxyEnv
beforeAll(async () => {
  env = await startProxyEnv({ ALLOW_UNPRICED_MODELS: 'true' })
})
afterAll(() => env.close())

test('an unpriced model goes through when allowed, with a zero-cost usage record', async () => {
  const { key, account } = await addAccount(env.gw, { creditUsd: 10 })
  const before = await cardsNano(env.gw, account.id)
  const client = new OpenAI({ apiKey: key, baseURL: `${env.gw.url}/v1`, maxRetries: 0 })
  const r = await client.chat.completions.create({ model: 'house-llm-7b', messages: [{ role: 'user', content: 'hi' }] })
  expect(r.choices[0]?.message?.content).toBeTruthy()
  expect(env.up.calls.at(-1)?.body).toMatchObject({ model: 'house-llm-7b' })
  const rec = (await usageRows(env.gw, account.id)).at(-1)
  expect(rec).toMatchObject({ mapped_model: 'house-llm-7b', cost_nano: 0, status: 200 })
  expect(await cardsNano(env.gw, account.id)).toBe(before)
})
