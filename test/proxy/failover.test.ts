// Failover before the first byte: across keys of a level, then SWITCH_OVER levels; key sleep on
// 429, disable on 401/403; the client sees one success. Time is a fake clock: no real sleeps.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { createFakeClock } from '../../src/shared/clock'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { addAccount, usageRows } from './fixtures'

const A = 'sk-key-A-000000000000aaaa'
const B = 'sk-key-B-000000000000bbbb'
const C = 'sk-key-C-000000000000cccc'
const clock = createFakeClock(Date.now())
let up: FakeUpstream
let gw: TestGateway
let client: OpenAI
const msgs = [{ role: 'user' as const, content: 'hi' }]

beforeAll(async () => {
  up = await startFakeUpstream()
  gw = await startTestGateway(
    {
      INIT_KEYS: `${A}::${up.url},${B}::${up.url}`,
      SWITCH_OVER: '1=2',
      FIRST_BYTE_TIMEOUT_MS: '300',
    },
    { clock },
  )
  await gw.deps.keys.service.add({ id: 1, dna: '.1.' } as any, {
    SecretKey: C,
    Provider: up.url,
    Level: 2,
    Name: 'levelTwo',
  })
  client = new OpenAI({ apiKey: (await addAccount(gw)).key, baseURL: gw.url + '/v1', maxRetries: 0 })
})
afterAll(async () => {
  await gw.close()
  await up.stop()
})
afterEach(() => {
  up.setBehavior(undefined)
  for (const k of gw.deps.keys.pool.all()) {
    k.disabledReason = null
    k.sleepUntilMs = null
  }
})

const keyNamed = (secret: string) => gw.deps.keys.pool.all().find((k) => k.secret === secret)!
const failFor = (secret: string, reply: Record<string, unknown>) =>
  up.setBehavior((r) => (r.key === secret ? reply : undefined))

describe('failover across keys', () => {
  test('500 on one key: the client sees one success, the key counts an error', async () => {
    failFor(A, { status: 500 })
    const before = keyNamed(A).errors
    for (let i = 0; i < 4; i++) {
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
      expect(r.choices[0]!.message.content).toBeTruthy()
    }
    expect(keyNamed(A).errors).toBeGreaterThan(before)
    expect(
      (await usageRows(gw))
        .slice(-4)
        .every((u) => u.status === 200 && u.key_id === keyNamed(B).id),
    ).toBe(true)
  })

  test('429 puts the key to sleep for Retry-After; it wakes when the clock passes it', async () => {
    failFor(A, { status: 429, retryAfter: 30 })
    for (let i = 0; i < 2; i++)
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    const a = keyNamed(A)
    expect(gw.deps.keys.pool.stateOf(a)).toEqual({
      state: 'sleeping',
      untilMs: clock.now() + 30_000,
    })
    up.setBehavior(undefined)
    up.reset()
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    expect(up.tally.byKey[A]).toBeUndefined()
    clock.advance(30_000)
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    expect(up.tally.byKey[A]?.requests).toBeGreaterThan(0)
  })

  test('401 disables the key with the reason, visible in GET /x-keys', async () => {
    failFor(A, { status: 401, message: 'Incorrect API key provided' })
    for (let i = 0; i < 2; i++)
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    const r = await fetch(`${gw.url}/x-keys/${keyNamed(A).id}`, {
      headers: { authorization: `Bearer ${gw.rootKey}` },
    })
    const view = (await r.json()) as any
    expect(view.State).toBe('disabled')
    expect(view.DisabledReason).toContain('upstream 401: Incorrect API key provided')
  })

  test('a hanging key times out before the first byte and the next key answers', async () => {
    failFor(A, { hang: true })
    for (let i = 0; i < 2; i++) {
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
      expect(r.choices.length).toBe(1)
    }
  })
})

describe('failover across levels and exhaustion', () => {
  test('every level-1 key failing (500, 529) switches over to level 2', async () => {
    up.setBehavior((r) =>
      r.key === A ? { status: 500 } : r.key === B ? { status: 529 } : undefined,
    )
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs })
    expect(r.choices.length).toBe(1)
    expect((await usageRows(gw)).at(-1).key_id).toBe(keyNamed(C).id)
  })

  test('all keys failing: the client gets the last upstream error, each key tried once', async () => {
    up.setBehavior(() => ({ status: 503, message: 'overloaded' }))
    up.reset()
    const e = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: msgs })
      .catch((x) => x)
    expect(e).toBeInstanceOf(OpenAI.InternalServerError)
    expect(e.status).toBe(503)
    expect(up.tally.requests).toBe(3)
    expect((await usageRows(gw)).at(-1)).toMatchObject({ status: 503, cost_nano: 0 })
  })

  test('no key for the surface → 503 no_available_key', async () => {
    for (const k of gw.deps.keys.pool.all()) k.disabledReason = 'test'
    const e = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: msgs })
      .catch((x) => x)
    expect(e.status).toBe(503)
    expect(e.code).toBe('no_available_key')
  })

  test('nothing is retried after the first byte: a cut stream ends, what was seen is billed', async () => {
    up.setBehavior((r) =>
      r.key === A || r.key === B || r.key === C
        ? { disconnectAfterChunks: 2, chunks: 6 }
        : undefined,
    )
    up.reset()
    const s = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: msgs,
      stream: true,
    })
    let text = ''
    const err = await (async () => {
      for await (const c of s) text += c.choices[0]?.delta?.content ?? ''
    })().catch((x) => x)
    expect(up.tally.requests).toBe(1)
    expect(err === undefined || err instanceof Error).toBe(true)
    await Bun.sleep(20)
    const rec = (await usageRows(gw)).at(-1)
    expect(rec.estimated).toBe(1)
    expect(rec.prompt_tokens).toBeGreaterThan(0)
    // What reached the client was seen by the gateway and billed (an abrupt close may drop bytes
    // still in flight, so the text can be shorter than the two chunks sent).
    if (text.length > 0) expect(rec.completion_tokens).toBeGreaterThan(0)
    expect(rec.completion_tokens).toBeLessThanOrEqual(20)
  })
})
