// The rest of the OpenAI surface and the access rules: completions, moderations, images, speech,
// multipart transcriptions; model and level mapping with wildcards; IP, resource and level lists.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI, { toFile } from 'openai'
import { addAccount, startProxyEnv, until, usageRows, type ProxyEnv } from './fixtures'

let env: ProxyEnv
let client: OpenAI
let accountId: number

beforeAll(async () => {
  env = await startProxyEnv({ MODEL_MAPPER: 'gpt-4-legacy*=gpt-4o-mini', LEVEL_MAPPER: 'gpt-4o=3' })
  const a = await addAccount(env.gw)
  accountId = a.account.id
  client = new OpenAI({ apiKey: a.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
})
afterAll(() => env.close())

const last = async () => (await usageRows(env.gw, accountId)).at(-1)

describe('surfaces', () => {
  test('legacy completions, stream and not', async () => {
    const r = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' })
    expect(r.choices[0]!.text).toBeTruthy()
    const s = await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say hi',
      stream: true,
    })
    let text = ''
    for await (const c of s) text += c.choices[0]?.text ?? ''
    expect(text).toBe('Hello from the fake upstream.')
    await until(
      async () =>
        (await usageRows(env.gw, accountId)).filter((u) => u.endpoint === '/v1/completions').length === 2,
    )
    expect(await last()).toMatchObject({ prompt_tokens: 12, completion_tokens: 8, estimated: 0 })
  })

  test('moderations (free, default model) and image generation (per image × n)', async () => {
    const m = await client.moderations.create({ input: 'hello' })
    expect(m.results.length).toBe(1)
    expect(await last()).toMatchObject({
      endpoint: '/v1/moderations',
      model: 'omni-moderation-latest',
      cost_nano: 0,
    })
    const img = await client.images.generate({ model: 'dall-e-3', prompt: 'a cat', n: 2 })
    expect(img.data!.length).toBeGreaterThan(0)
    expect(await last()).toMatchObject({ endpoint: '/v1/images/generations', cost_nano: 2 * 40_000_000 })
  })

  test('speech: binary audio streamed back, charged per request', async () => {
    const r = await client.audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: 'hello there',
    })
    const audio = new Uint8Array(await r.arrayBuffer())
    expect(audio.length).toBe(1024)
    await until(async () => (await last())?.endpoint === '/v1/audio/speech')
    expect(await last()).toMatchObject({ cost_nano: 15_000_000, estimated: 0 })
  })

  test('transcriptions: multipart through, model read from the form, mapped, usage billed', async () => {
    const file = await toFile(new Uint8Array(4096).fill(7), 'a.wav', { type: 'audio/wav' })
    const r = await client.audio.transcriptions.create({ model: 'whisper-1', file })
    expect(r.text).toBe('Hello from the fake upstream.')
    expect(await last()).toMatchObject({
      endpoint: '/v1/audio/transcriptions',
      model: 'whisper-1',
      cost_nano: 6_000_000,
    })
    expect(env.up.calls.at(-1)!.bytes).toBeGreaterThan(4096)
    const mapped = await addAccount(env.gw, { modelMapper: { stt: 'whisper-1' } })
    const c = new OpenAI({ apiKey: mapped.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    const r2 = await c.audio.transcriptions.create({ model: 'stt', file, language: 'en' })
    expect(r2.text).toBe('Hello from the fake upstream.')
    expect(env.up.calls.at(-1)!.body).toMatchObject({ model: 'whisper-1', language: 'en' })
  })
})

describe('mapping and access', () => {
  test('MODEL_MAPPER wildcard maps the name sent upstream; the record keeps both names', async () => {
    await client.chat.completions.create({
      model: 'gpt-4-legacy-0314',
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect((env.up.calls.at(-1)!.body as any).model).toBe('gpt-4o-mini')
    expect(await last()).toMatchObject({ model: 'gpt-4-legacy-0314', mapped_model: 'gpt-4o-mini' })
  })

  test('account ModelMapper with a capture runs before the global one', async () => {
    const a = await addAccount(env.gw, { modelMapper: { 'fast-*': 'gpt-4o-*' } })
    const c = new OpenAI({ apiKey: a.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    await c.chat.completions.create({
      model: 'fast-mini',
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect((env.up.calls.at(-1)!.body as any).model).toBe('gpt-4o-mini')
  })

  test('LEVEL_MAPPER routes gpt-4o to level 3 (no key there → 503); AllowLevels refuses with 403', async () => {
    const e = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((x) => x)
    expect(e.status).toBe(503)
    const a = await addAccount(env.gw, { allowLevels: [1] })
    const c = new OpenAI({ apiKey: a.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    const e2 = await c.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((x) => x)
    expect(e2).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(e2.code).toBe('level_not_allowed')
  })

  test('AllowIPs and Resources deny before the body is read; a parent narrows its child', async () => {
    const ipLocked = await addAccount(env.gw, { allowIps: ['10.0.0.0/8'] })
    const c1 = new OpenAI({ apiKey: ipLocked.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    const e1 = await c1.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((x) => x)
    expect(e1.code).toBe('ip_not_allowed')
    const chatOnly = await addAccount(env.gw, { resources: ['/v1/chat/*'] })
    const c2 = new OpenAI({ apiKey: chatOnly.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    const e2 = await c2.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((x) => x)
    expect(e2.code).toBe('resource_not_allowed')
    // A child of chatOnly with no lists of its own inherits the narrowing.
    const child = await addAccount(env.gw, { parentId: chatOnly.account.id })
    await env.gw.deps.sql.run('UPDATE accounts SET dna = ? WHERE id = ?', [`${chatOnly.account.dna}${child.account.id}.`, child.account.id])
    env.gw.deps.accounts.auth.clear()
    const c3 = new OpenAI({ apiKey: child.key, baseURL: env.gw.url + '/v1', maxRetries: 0 })
    const e3 = await c3.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((x) => x)
    expect(e3.code).toBe('resource_not_allowed')
  })
})
