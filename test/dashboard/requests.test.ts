// GET /dashboard/x-user-requests and the LimitUse of /dashboard/x-user-info, through the real
// server: calls made with the OpenAI surface against a fake provider, on a clock the test moves.
// Happy paths, bad parameters (400 naming the param), and the subtree rule (404 outside it).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createFakeClock } from '../../src/shared/clock'
import { generateKey } from '../../src/shared/ids'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'

const DAY_MS = 86_400_000
let up: FakeUpstream
let gw: TestGateway
const clock = createFakeClock(Date.now())
const keys: Record<string, string> = {}
/** x-request-id of each call, in order, by account name. */
const made: Record<string, string[]> = { alice: [], amyyy: [] }
let failOnce = false

async function chat(who: string, model: string): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys[who]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 }),
  })
  await res.text()
  made[who]?.push(res.headers.get('x-request-id') ?? '')
  clock.advance(1_000)
  return res.status
}

async function create(parentKey: string, name: string, credit: number, extra = {}) {
  const r = await call(gw, 'POST', '/x-users', {
    key: parentKey,
    body: { Name: name, Email: `${name}@example.com`, CreditGranted: credit, ...extra },
  })
  if (r.status !== 200) throw new Error(`create ${name}: ${r.text}`)
  keys[name] = r.body.User.SecretKey
}

const get = (who: string, query: string) =>
  call(gw, 'GET', `/dashboard/x-user-requests${query}`, { key: keys[who] })

beforeAll(async () => {
  up = await startFakeUpstream({
    promptTokens: 10,
    completionTokens: 5,
    behavior: () => {
      if (!failOnce) return
      failOnce = false
      return { status: 400, message: 'bad request from the provider' }
    },
  })
  gw = await startTestGateway(
    {
      INIT_KEYS: `sk-upstream-${'a'.repeat(20)}::${up.url}`,
      USAGE_RETENTION_DAYS: '30',
      MODEL_MAPPER: 'house-model=gpt-4o-mini',
      MODEL_LIMITS: JSON.stringify({ 'gpt-4o*': { tpm: 1_000_000 } }),
    },
    { clock },
  )
  keys.root = gw.rootKey
  await create(gw.rootKey, 'alice', 100, {
    RPM: 100,
    TPM: 500_000,
    ModelLimits: { 'gpt-4o': { rpm: 50 } },
  })
  await create(keys.alice!, 'amyyy', 30)
  await create(gw.rootKey, 'bobby', 30)
  // One call past retention, then 9 of alice's (one refused by the provider) and 2 of amy's.
  await chat('alice', 'gpt-4o')
  clock.advance(40 * DAY_MS)
  for (let i = 0; i < 3; i++) await chat('alice', 'gpt-4o-mini')
  for (let i = 0; i < 2; i++) await chat('alice', 'house-model')
  for (let i = 0; i < 3; i++) await chat('alice', 'gpt-4o')
  failOnce = true
  expect(await chat('alice', 'gpt-4o-mini')).toBe(400)
  for (let i = 0; i < 2; i++) await chat('amyyy', 'gpt-4o-mini')
})

afterAll(async () => {
  await gw?.close()
  await up?.stop()
})

describe('GET /dashboard/x-user-requests: happy paths', () => {
  test('pages of the caller’s records, newest first, within retention, nobody else’s', async () => {
    const seen: string[] = []
    let page = 1
    for (;;) {
      const r = await get('alice', `?size=4&page=${page}`)
      expect(r.status, r.text).toBe(200)
      expect(r.body).toMatchObject({ object: 'list', page, size: 4, retention_days: 30 })
      expect(r.body.account.name).toBe('alice')
      expect(r.body.data.length).toBeLessThanOrEqual(4)
      seen.push(...r.body.data.map((d: { request_id: string }) => d.request_id))
      if (!r.body.has_more) break
      expect(r.body.data.length).toBe(4)
      page++
    }
    expect(page).toBe(3)
    // The 9 recent calls, newest first; the one 40 days old is past the 30-day retention.
    const recent = made.alice!.slice(1)
    expect(seen).toEqual([...recent].reverse())
    expect(seen).not.toContain(made.alice![0]!)
    for (const id of made.amyyy!) expect(seen).not.toContain(id)
  })

  test('a record carries the call: models asked and mapped, tokens, cost, status, timings', async () => {
    const r = await get('alice', '?size=100')
    const mapped = r.body.data.find((d: { model: string }) => d.model === 'house-model')
    expect(mapped, r.text).toMatchObject({
      endpoint: '/v1/chat/completions',
      model: 'house-model',
      mapped_model: 'gpt-4o-mini',
      prompt_tokens: 10,
      completion_tokens: 5,
      cached_tokens: 0,
      total_tokens: 15,
      status: 200,
      estimated: false,
    })
    // gpt-4o-mini: 10 × 0.15 + 5 × 0.6 USD per million tokens, at Rates 1.
    expect(mapped.cost).toBeCloseTo(0.0000045, 12)
    expect(Number.isNaN(Date.parse(mapped.created_at))).toBe(false)
    expect(typeof mapped.latency_ms).toBe('number')
    // The sum of the page agrees with the bill of the same calls.
    const bill = await call(gw, 'GET', '/dashboard/bill', { key: keys.alice })
    const sum = r.body.data.reduce((s: number, d: { cost: number }) => s + d.cost, 0)
    expect(sum).toBeCloseTo(bill.body.total_usage.cost, 9)
  })

  test('filter by model (as asked or as mapped) and by status or status class', async () => {
    const count = async (q: string) => (await get('alice', `?size=100&${q}`)).body.data.length
    expect(await count('model=gpt-4o')).toBe(3)
    expect(await count('model=gpt-4o-mini')).toBe(6)
    expect(await count('model=house-model')).toBe(2)
    expect(await count('model=no-such-model')).toBe(0)
    expect(await count('status=400')).toBe(1)
    expect(await count('status=4xx')).toBe(1)
    expect(await count('status=2xx')).toBe(8)
    expect(await count('status=2xx&model=gpt-4o-mini')).toBe(5)
  })

  test('a reseller reads a descendant’s records with u (name or ID)', async () => {
    const r = await get('alice', '?u=amyyy')
    expect(r.status, r.text).toBe(200)
    expect(r.body.account.name).toBe('amyyy')
    expect(r.body.data.map((d: { request_id: string }) => d.request_id)).toEqual(
      [...made.amyyy!].reverse(),
    )
    const byId = await get('alice', `?u=${r.body.account.id}`)
    expect(byId.body.data.length).toBe(2)
    const fromRoot = await get('root', '?u=amyyy')
    expect(fromRoot.body.data.length).toBe(2)
  })
})

describe('GET /dashboard/x-user-requests: bad parameters', () => {
  const cases: Array<[string, string]> = [
    ['?size=0', 'size'],
    ['?size=101', 'size'],
    ['?page=0', 'page'],
    ['?page=1.5', 'page'],
    ['?status=abc', 'status'],
    ['?status=600', 'status'],
    ['?u=L1', 'u'],
  ]
  for (const [q, param] of cases) {
    test(`${q} is a 400 naming ${param}`, async () => {
      const r = await get('alice', q)
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.param, r.text).toBe(param)
      expect(r.body.error.message, r.text).toContain(param)
    })
  }

  test('an unknown account in u is 404', async () => {
    const r = await get('alice', '?u=nobody-here')
    expect(r.status, r.text).toBe(404)
  })
})

describe('GET /dashboard/x-user-requests: security', () => {
  test('a customer cannot read its parent’s or a sibling’s records: 404, as if absent', async () => {
    expect((await get('amyyy', '?u=alice')).status).toBe(404)
    expect((await get('bobby', '?u=amyyy')).status).toBe(404)
    expect((await get('bobby', '?u=alice')).status).toBe(404)
    const own = await get('bobby', '')
    expect(own.status, own.text).toBe(200)
    expect(own.body.data).toEqual([])
  })

  test('no key or a wrong key is 401', async () => {
    expect((await call(gw, 'GET', '/dashboard/x-user-requests')).status).toBe(401)
    const wrong = await call(gw, 'GET', '/dashboard/x-user-requests', { key: generateKey() })
    expect(wrong.status).toBe(401)
  })
})

describe('GET /dashboard/x-user-info: LimitUse', () => {
  test('each window shows its limit and what is counted now, the subtree’s calls included', async () => {
    const r = await call(gw, 'GET', '/dashboard/x-user-info', { key: keys.alice })
    expect(r.status, r.text).toBe(200)
    const use = r.body.LimitUse
    // alice's 9 calls of the last minute and amy's 2 count in alice's windows.
    expect(use.RPM).toEqual({ limit: 100, used: 11 })
    // A window without a limit counts nothing.
    expect(use.RPD).toEqual({ limit: 0, used: 0 })
    expect(use.TPM.limit).toBe(500_000)
    // Tokens: 15 for each answered call; the one the provider refused settles at 0.
    expect(use.TPM.used).toBe(10 * 15)
    expect(use.Concurrency).toEqual({ limit: 0, used: 0 })
    expect(use.ModelLimits['gpt-4o']).toEqual({
      rpm: { limit: 50, used: 3 },
      // The global gpt-4o* entry covers gpt-4o too: its tpm joins the account's own rpm.
      tpm: { limit: 1_000_000, used: 3 * 15 },
      source: 'account',
    })
    // gpt-4o-mini as asked (4 calls, one refused) falls to the global entry; house-model does not.
    expect(use.ModelLimits['gpt-4o*']).toEqual({
      rpm: { limit: 0, used: 4 },
      tpm: { limit: 1_000_000, used: 3 * 15 },
      source: 'global',
    })
  })

  test('an account without limits counts nothing; root is never limited', async () => {
    const amy = await call(gw, 'GET', '/dashboard/x-user-info', { key: keys.amyyy })
    expect(amy.body.LimitUse.RPM).toEqual({ limit: 100, used: 2 })
    const root = await call(gw, 'GET', '/dashboard/x-user-info', { key: gw.rootKey })
    expect(root.body.LimitUse.RPM).toEqual({ limit: 0, used: 0 })
  })
})
