// MODEL_PROVIDERS through /x-config: a model named for the other provider's keys goes to them
// (natively, no translation), the next call after the change sees it, a bad value is a 400.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call } from '../helpers/gateway'
import { addAccount, startProxyEnv, type ProxyEnv } from '../proxy/fixtures'

let env: ProxyEnv
let key: string
beforeAll(async () => {
  env = await startProxyEnv()
  key = (await addAccount(env.gw)).key
})
afterAll(() => env.close())

const chat = (model: string) =>
  call(env.gw, 'POST', '/v1/chat/completions', {
    key,
    body: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 },
  })

describe('MODEL_PROVIDERS', () => {
  test('by default a Claude model on the OpenAI surface goes to the anthropic key, translated', async () => {
    const before = { ...env.up.tally.byPath }
    const r = await chat('claude-haiku-4-5')
    expect(r.status, r.text).toBe(200)
    expect((env.up.tally.byPath['/v1/messages'] ?? 0) - (before['/v1/messages'] ?? 0)).toBe(1)
  })

  test('set to claude-*=openai it goes to the openai key as it is; reset, back to anthropic', async () => {
    const set = await call(env.gw, 'POST', '/x-config', {
      key: env.gw.rootKey,
      body: { MODEL_PROVIDERS: 'claude-*=openai' },
    })
    expect(set.status, set.text).toBe(200)
    expect(set.body.configs.MODEL_PROVIDERS).toBe('claude-*=openai')
    const before = { ...env.up.tally.byPath }
    const r = await chat('claude-haiku-4-5')
    expect(r.status, r.text).toBe(200)
    const chats = (env.up.tally.byPath['/v1/chat/completions'] ?? 0) - (before['/v1/chat/completions'] ?? 0)
    expect(chats).toBe(1)
    expect((env.up.tally.byPath['/v1/messages'] ?? 0) - (before['/v1/messages'] ?? 0)).toBe(0)
    const reset = await call(env.gw, 'DELETE', '/x-config', { key: env.gw.rootKey, body: { keys: ['MODEL_PROVIDERS'] } })
    expect(reset.status, reset.text).toBe(200)
    const again = { ...env.up.tally.byPath }
    expect((await chat('claude-haiku-4-5')).status).toBe(200)
    expect((env.up.tally.byPath['/v1/messages'] ?? 0) - (again['/v1/messages'] ?? 0)).toBe(1)
  })

  test('a provider that is not openai or anthropic is a 400 naming the setting; nothing changes', async () => {
    const r = await call(env.gw, 'POST', '/x-config', {
      key: env.gw.rootKey,
      body: { MODEL_PROVIDERS: 'claude-*=azure' },
    })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.param).toBe('MODEL_PROVIDERS')
    expect(r.body.error.message).toContain('openai or anthropic')
    const view = await call(env.gw, 'GET', '/x-config', { key: env.gw.rootKey })
    expect(view.body.configs.MODEL_PROVIDERS).toBeUndefined()
  })
})
