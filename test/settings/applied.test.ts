import { afterAll, expect, test } from 'bun:test'
import { buildDeps } from '../../src/deps'
import { createMemoryLogger } from '../../src/shared/log'
import { call, makeApp } from '../reports/fixtures'

const t = await makeApp({ MODEL_MAPPER: 'gpt-4=gpt-4o' })
afterAll(() => t.close())
const rules = () => t.deps.proxy.rules()

test('a POST reaches the proxy rules and the prices before the next call', async () => {
  expect(rules().mapModel('gpt-4')).toBe('gpt-4o')
  expect(t.deps.billing.pricing().lookup('house-model')).toBeUndefined()
  const r = await call(t, 'POST', '/x-config', {
    key: t.rootKey,
    body: {
      MODEL_MAPPER: { 'claude-*': 'vendor/claude-*', 'gpt-4': 'gpt-4.1' },
      LEVEL_MAPPER: 'o1*=3',
      SWITCH_OVER: { '1': 2 },
      RESOURCES: ['/v1/chat/completions'],
      MODEL_PRICES: { 'house-model': { input: 1, output: 2 } },
    },
  })
  expect(r.status, r.text).toBe(200)
  expect(rules().mapModel('claude-3-opus')).toBe('vendor/claude-3-opus')
  expect(rules().mapModel('gpt-4')).toBe('gpt-4.1')
  expect(rules().mapLevel('o1-mini')).toBe(3)
  expect(rules().switchOver.get(1)).toBe(2)
  expect(rules().resourceAllowed('/v1/chat/completions')).toBe(true)
  expect(rules().resourceAllowed('/v1/embeddings')).toBe(false)
  expect(t.deps.billing.pricing().lookup('house-model')).toMatchObject({ input: 1, output: 2 })
})

test('stored settings are applied at start, and DELETE restores the environment default', async () => {
  const again = await buildDeps(t.deps.config, t.deps, { log: createMemoryLogger(), clock: t.clock })
  expect(again.proxy.rules().mapModel('gpt-4')).toBe('gpt-4.1')
  expect(again.billing.pricing().lookup('house-model')).toBeDefined()
  const r = await call(t, 'DELETE', '/x-config', {
    key: t.rootKey,
    body: { keys: ['MODEL_MAPPER', 'RESOURCES', 'MODEL_PRICES'] },
  })
  expect(r.status, r.text).toBe(200)
  expect(rules().mapModel('gpt-4')).toBe('gpt-4o')
  expect(rules().mapModel('claude-3')).toBeUndefined()
  expect(rules().resourceAllowed('/v1/embeddings')).toBe(true)
  expect(t.deps.billing.pricing().lookup('house-model')).toBeUndefined()
})

test('ALLOW_UNPRICED_MODELS set through /x-config reaches the proxy at once and DELETE undoes it', async () => {
  expect(rules().allowUnpriced).toBe(false)
  const on = await call(t, 'POST', '/x-config', { key: t.rootKey, body: { ALLOW_UNPRICED_MODELS: true } })
  expect(on.status, on.text).toBe(200)
  expect(rules().allowUnpriced).toBe(true)
  const off = await call(t, 'DELETE', '/x-config', { key: t.rootKey, body: { keys: ['ALLOW_UNPRICED_MODELS'] } })
  expect(off.status, off.text).toBe(200)
  expect(rules().allowUnpriced).toBe(false)
})
