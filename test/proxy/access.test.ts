// Access rules through HTTP (§5): AllowIPs with IPv4/IPv6 CIDRs against the client address
// (X-Forwarded-For believed only from a TRUST_PROXY peer), and every list narrowed by ancestors
// and the global RESOURCES. Denied calls never reach the upstream.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { addUnder, chat, startLimitEnv, type LimitEnv } from '../limits/gatekit'
import { call } from '../helpers/gateway'
import { usageRows } from './fixtures'

const xff = (v: string) => ({ headers: { 'x-forwarded-for': v } })

async function expectDenied(
  env: LimitEnv,
  r: Promise<{ status: number; body: any; text: string }>,
  code: string,
) {
  const before = env.up.tally.requests
  const res = await r
  expect(res.status, res.text).toBe(403)
  expect(res.body.error.code, res.text).toBe(code)
  expect(env.up.tally.requests, 'a denied call reaches no upstream').toBe(before)
  return res
}

describe('without TRUST_PROXY: the socket address, whatever X-Forwarded-For says', () => {
  let env: LimitEnv
  beforeAll(async () => {
    env = await startLimitEnv()
  })
  afterAll(() => env.close())

  test('a spoofed X-Forwarded-For inside the allowed range is ignored → 403', async () => {
    const { key } = await addUnder(env.gw, null, { allowIps: ['10.0.0.0/8'] })
    const r = await expectDenied(env, chat(env.gw, key, xff('10.1.2.3')), 'ip_not_allowed')
    expect(r.body.error.message, r.text).toContain('127.0.0.1')
  })

  test('the socket address in the list passes; the record keeps the socket address', async () => {
    const { key, account } = await addUnder(env.gw, null, { allowIps: ['127.0.0.0/8'] })
    const r = await chat(env.gw, key, xff('192.0.2.1'))
    expect(r.status, r.text).toBe(200)
    expect((await usageRows(env.gw, account.id)).at(-1)?.client_ip).toBe('127.0.0.1')
  })

  test("'-*' blocks every address; an unset list allows all", async () => {
    const blocked = await addUnder(env.gw, null, { allowIps: [] })
    await expectDenied(env, chat(env.gw, blocked.key), 'ip_not_allowed')
    const open = await addUnder(env.gw, null, { allowIps: null })
    expect((await chat(env.gw, open.key)).status).toBe(200)
  })
})

describe('behind a trusted proxy (TRUST_PROXY=127.0.0.1)', () => {
  let env: LimitEnv
  beforeAll(async () => {
    env = await startLimitEnv({
      TRUST_PROXY: '127.0.0.1',
      RESOURCES: '/v1/chat/completions /v1/messages',
    })
  })
  afterAll(() => env.close())

  test('IPv4 CIDR: the forwarded client inside passes, outside is 403', async () => {
    const { key, account } = await addUnder(env.gw, null, { allowIps: ['10.1.0.0/16'] })
    const ok = await chat(env.gw, key, xff('10.1.2.3'))
    expect(ok.status, ok.text).toBe(200)
    expect((await usageRows(env.gw, account.id)).at(-1)?.client_ip).toBe('10.1.2.3')
    await expectDenied(env, chat(env.gw, key, xff('10.2.0.1')), 'ip_not_allowed')
    // The client's own forged entry is left of the address the proxy appended: not believed.
    await expectDenied(env, chat(env.gw, key, xff('10.1.2.3, 192.0.2.44')), 'ip_not_allowed')
  })

  test('IPv6 CIDR: 2001:db8::/32 admits 2001:db8::5 and [2001:db8::7]:443, refuses 2001:db9::1', async () => {
    const { key } = await addUnder(env.gw, null, { allowIps: ['2001:db8::/32'] })
    expect((await chat(env.gw, key, xff('2001:db8::5'))).status).toBe(200)
    expect((await chat(env.gw, key, xff('[2001:db8::7]:443'))).status).toBe(200)
    await expectDenied(env, chat(env.gw, key, xff('2001:db9::1')), 'ip_not_allowed')
    await expectDenied(env, chat(env.gw, key, xff('10.1.2.3')), 'ip_not_allowed')
  })

  test('a garbage hop falls back to the proxy address, never to the forged text', async () => {
    const { key } = await addUnder(env.gw, null, { allowIps: ['10.0.0.0/8'] })
    const r = await expectDenied(
      env,
      chat(env.gw, key, xff('10.0.0.1, not-an-ip')),
      'ip_not_allowed',
    )
    expect(r.body.error.message, r.text).toContain('127.0.0.1')
  })

  test("a child's AllowIPs is narrowed by its parent's", async () => {
    const parent = await addUnder(env.gw, null, { allowIps: ['10.0.0.0/8'] })
    const child = await addUnder(env.gw, parent.account, { allowIps: ['10.1.0.0/16', '192.168.0.0/16'] })
    expect((await chat(env.gw, child.key, xff('10.1.1.1'))).status).toBe(200)
    await expectDenied(env, chat(env.gw, child.key, xff('192.168.1.1')), 'ip_not_allowed')
  })

  test("AllowModels narrowed by the parent's: the child cannot reach what the parent cannot", async () => {
    const parent = await addUnder(env.gw, null, { allowModels: ['gpt-4o*'] })
    const child = await addUnder(env.gw, parent.account, { allowModels: ['gpt-4o-mini', 'claude-*'] })
    expect((await chat(env.gw, child.key)).status).toBe(200)
    await expectDenied(env, chat(env.gw, child.key, { model: 'gpt-4o' }), 'model_not_allowed')
    const msg = await call(env.gw, 'POST', '/v1/messages', {
      headers: { 'x-api-key': child.key, 'anthropic-version': '2023-06-01' },
      body: {
        model: 'claude-haiku-4-5',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      },
    })
    const before = env.up.tally.requests
    const r = await msg
    expect(r.status, r.text).toBe(403)
    expect(r.body.error.type, r.text).toBe('permission_error')
    expect(env.up.tally.requests).toBe(before)
  })

  test("the global RESOURCES and an ancestor's Resources both narrow the paths", async () => {
    const open = await addUnder(env.gw, null)
    const emb = { key: open.key, body: { model: 'text-embedding-3-small', input: 'hi' } }
    await expectDenied(env, call(env.gw, 'POST', '/v1/embeddings', emb), 'resource_not_allowed')
    const parent = await addUnder(env.gw, null, { resources: ['/v1/messages'] })
    const child = await addUnder(env.gw, parent.account)
    await expectDenied(env, chat(env.gw, child.key), 'resource_not_allowed')
  })

  test("AllowLevels narrowed by the parent's: a level outside it is 403", async () => {
    const parent = await addUnder(env.gw, null, { allowLevels: [2] })
    const child = await addUnder(env.gw, parent.account, { allowLevels: null })
    await expectDenied(env, chat(env.gw, child.key), 'level_not_allowed')
  })
})
