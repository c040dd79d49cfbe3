// GET /v1/models/{id} on both surfaces with the official SDKs: one model in each surface's form,
// and a 404 in that surface's error shape for a model the key may not use or that is unknown.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { addAccount, startProxyEnv, type ProxyEnv } from '../proxy/fixtures'

let env: ProxyEnv
let key: string
let limitedKey: string

beforeAll(async () => {
  env = await startProxyEnv()
  key = (await addAccount(env.gw, { creditUsd: 10 })).key
  limitedKey = (await addAccount(env.gw, { allowModels: ['gpt-4o-mini*'] })).key
})
afterAll(() => env.close())

const openai = (k: string) => new OpenAI({ apiKey: k, baseURL: env.gw.url + '/v1', maxRetries: 0 })
const anthropic = (k: string) => new Anthropic({ apiKey: k, baseURL: env.gw.url, maxRetries: 0 })

describe('OpenAI models.retrieve', () => {
  test('a usable model answers the OpenAI model object', async () => {
    const m = await openai(key).models.retrieve('gpt-4o-mini')
    expect(m).toEqual({
      id: 'gpt-4o-mini',
      object: 'model',
      created: Math.floor(env.gw.deps.startedAtMs / 1000),
      owned_by: 'openai',
    })
    const list = await openai(key).models.list()
    expect(list.data.find((x) => x.id === 'gpt-4o-mini')).toEqual(m)
  })

  test('a model outside AllowModels is a 404 NotFoundError', async () => {
    const e = await openai(limitedKey).models.retrieve('claude-sonnet-4-0').catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.NotFoundError)
    expect(e.error).toMatchObject({ type: 'not_found_error', param: 'model', code: 'model_not_found' })
    expect(e.error.message).toContain('claude-sonnet-4-0')
    expect((await openai(limitedKey).models.retrieve('gpt-4o-mini')).id).toBe('gpt-4o-mini')
  })

  test('an unknown model is a 404 with code model_not_found', async () => {
    const e = await openai(key).models.retrieve('no-such-model').catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.NotFoundError)
    expect(e.error).toMatchObject({ type: 'not_found_error', param: 'model', code: 'model_not_found' })
    expect(e.error.message).toContain('no-such-model')
  })

  test('a bad key is a 401', async () => {
    const e = await openai('sk-Xvs' + 'a'.repeat(45)).models.retrieve('gpt-4o-mini').catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError)
  })
})

describe('Anthropic models.retrieve', () => {
  test('a usable model answers the Anthropic model object', async () => {
    const m: unknown = await anthropic(key).models.retrieve('claude-sonnet-4-0')
    expect(m).toEqual({
      type: 'model',
      id: 'claude-sonnet-4-0',
      display_name: 'claude-sonnet-4-0',
      created_at: new Date(env.gw.deps.startedAtMs).toISOString(),
    })
  })

  test('a model the key may not use is a 404 in the Anthropic error shape', async () => {
    const e = await anthropic(limitedKey).models.retrieve('claude-sonnet-4-0').catch((x) => x)
    expect(e).toBeInstanceOf(Anthropic.NotFoundError)
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
    expect(e.error.error.message).toContain('claude-sonnet-4-0')
  })

  test('an unknown model is a 404 in the Anthropic error shape', async () => {
    const e = await anthropic(key).models.retrieve('no-such-model').catch((x) => x)
    expect(e).toBeInstanceOf(Anthropic.NotFoundError)
    expect(e.error).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: expect.stringContaining('no-such-model') },
    })
  })

  test('a bad key is a 401 in the Anthropic error shape', async () => {
    const e = await anthropic('sk-Xvs' + 'a'.repeat(45)).models.retrieve('claude-sonnet-4-0').catch((x) => x)
    expect(e).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
  })
})
