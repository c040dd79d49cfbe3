// The provider of a model: MODEL_PROVIDERS (exact names and wildcards) over the catalogue's, and
// the route a call gets from it.
import { describe, expect, test } from 'bun:test'
import { ConfigError } from '../../src/config'
import { ENDPOINTS } from '../../src/proxy/endpoints'
import { compileProviders, compileRules } from '../../src/proxy/rules'
import { catalogueProvider, routeOf } from '../../src/proxy/translate/route'

const ep = (path: string) => ENDPOINTS.find((e) => e.path === path)!

describe('MODEL_PROVIDERS', () => {
  test('the catalogue: Claude models are anthropic, the rest openai', () => {
    expect(catalogueProvider('claude-sonnet-4-0')).toBe('anthropic')
    expect(catalogueProvider('gpt-4o-mini')).toBe('openai')
    expect(compileRules({}).providerOf('claude-3-haiku')).toBe('anthropic')
  })

  test('pairs and JSON, wildcards and exact names over the catalogue', () => {
    const p = compileProviders('vendor/claude-*=anthropic, claude-x=openai,deepseek-*=openai')
    expect(p('vendor/claude-opus')).toBe('anthropic')
    expect(p('claude-x')).toBe('openai')
    expect(p('claude-y')).toBe('anthropic')
    expect(p('deepseek-reasoner')).toBe('openai')
    expect(compileProviders('{"my-*":"anthropic"}')('my-model')).toBe('anthropic')
    expect(compileRules({ MODEL_PROVIDERS: 'q-*=anthropic' }).providerOf('q-1')).toBe('anthropic')
  })

  test('a value that is not a provider is a ConfigError naming the setting and entry', () => {
    expect(() => compileProviders('gpt-*=azure')).toThrow(ConfigError)
    expect(() => compileProviders('gpt-*=azure')).toThrow(/MODEL_PROVIDERS.*gpt-\*/)
    expect(() => compileProviders('nonsense')).toThrow(/MODEL_PROVIDERS/)
  })
})

describe('routeOf', () => {
  const base = { nowMs: 0, promptTokens: () => 7, providerOf: catalogueProvider }
  const chat = { model: 'x', messages: [{ role: 'user', content: 'hi' }] }
  test('native calls get no route (and no work)', () => {
    expect(
      routeOf({ ...base, endpoint: ep('/v1/chat/completions'), json: chat, mappedModel: 'gpt-4o' }),
    ).toBeNull()
    expect(
      routeOf({ ...base, endpoint: ep('/v1/messages'), json: chat, mappedModel: 'claude-3' }),
    ).toBeNull()
  })
  test('paths without a peer stay with their surface', () => {
    const json = { model: 'claude-3', input: 'x' }
    expect(
      routeOf({ ...base, endpoint: ep('/v1/embeddings'), json, mappedModel: 'claude-3' }),
    ).toBeNull()
  })
  test('chat on a Claude model goes to /v1/messages of anthropic keys, translated', () => {
    const r = routeOf({
      ...base,
      endpoint: ep('/v1/chat/completions'),
      json: { ...chat, seed: 1 },
      mappedModel: 'claude-3',
      maxOutputTokens: 1000,
    })!
    expect(r.provider).toBe('anthropic')
    expect(r.path).toBe('/v1/messages')
    expect(JSON.parse(r.body!)).toEqual({
      model: 'claude-3',
      max_tokens: 1000,
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(r.translation.dropped).toBe('seed')
  })
  test('count_tokens on an OpenAI model is answered by the gateway with the estimate', () => {
    const r = routeOf({
      ...base,
      endpoint: ep('/v1/messages/count_tokens'),
      json: chat,
      mappedModel: 'gpt-4o',
    })!
    expect(r.body).toBeNull()
    expect(JSON.parse(new TextDecoder().decode(r.local!))).toEqual({ input_tokens: 7 })
  })
})
