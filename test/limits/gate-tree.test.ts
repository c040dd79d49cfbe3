// Limits over the account tree through HTTP: a parent's limits cap its whole subtree (labelled,
// never naming the ancestor), per-model limits from MODEL_LIMITS overridden by an account's
// ModelLimits, and limit changes through the admin API applied to the next call.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call } from '../helpers/gateway'
import { addUnder, chat, S, startLimitEnv, statuses, type LimitEnv } from './gatekit'

let env: LimitEnv
beforeAll(async () => {
  env = await startLimitEnv({ MODEL_LIMITS: '{"gpt-4o-mini": {"rpm": 2}, "claude-*": {"rpm": 1}}' })
})
afterAll(() => env.close())

/** Neither the id nor the name of an ancestor may show in a denial. */
function expectNoLeak(
  r: { text: string; headers: Headers },
  ancestor: { id: number; name: string },
) {
  const shown =
    r.text + JSON.stringify(Object.fromEntries(r.headers as unknown as Iterable<[string, string]>))
  expect(shown, shown).not.toContain(ancestor.name)
  expect(shown, shown).not.toContain(`a:${ancestor.id}`)
}

describe('subtree caps', () => {
  test("two children share their parent's RPM; the denial says 'parent account'", async () => {
    const parent = await addUnder(env.gw, null, { rpm: 3 })
    const a = await addUnder(env.gw, parent.account, { rpm: 10 })
    const b = await addUnder(env.gw, parent.account, { rpm: 10 })
    const before = env.up.tally.requests
    expect(await statuses(env.gw, a.key, 2)).toEqual([200, 200])
    expect(await statuses(env.gw, b.key, 1)).toEqual([200])
    const denied = await chat(env.gw, b.key)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.headers.get('x-ratelimit-scope'), denied.text).toBe('parent account')
    expect(denied.body.error.message, denied.text).toContain('parent account')
    expectNoLeak(denied, parent.account)
    expect((await chat(env.gw, a.key)).status).toBe(429)
    expect(env.up.tally.requests - before).toBe(3)
    // The parent's own calls count in the same window; denied calls count nowhere.
    expect((await chat(env.gw, parent.key)).status).toBe(429)
    const windows = env.gw.deps.limits.windows
    expect(windows.usage(`a:${parent.account.id}`).rpm).toBe(3)
    expect(windows.usage(`a:${b.account.id}`).rpm).toBe(1)
    env.clock.advance(61 * S)
    expect((await chat(env.gw, b.key)).status).toBe(200)
  })

  test("a grandparent's limit caps grandchildren as 'ancestor account'", async () => {
    const top = await addUnder(env.gw, null, { rph: 2 })
    const mid = await addUnder(env.gw, top.account)
    const leaf = await addUnder(env.gw, mid.account)
    const other = await addUnder(env.gw, top.account)
    expect(await statuses(env.gw, leaf.key, 1)).toEqual([200])
    expect(await statuses(env.gw, other.key, 1)).toEqual([200])
    const denied = await chat(env.gw, leaf.key)
    expect(denied.status, denied.text).toBe(429)
    expect(denied.headers.get('x-ratelimit-scope')).toBe('ancestor account')
    expectNoLeak(denied, top.account)
    expectNoLeak(denied, mid.account)
  })

  test('a child limited tighter than its parent is stopped by its own limit first', async () => {
    const parent = await addUnder(env.gw, null, { rpm: 10 })
    const child = await addUnder(env.gw, parent.account, { rpm: 1 })
    expect(await statuses(env.gw, child.key, 2)).toEqual([200, 429])
    expect(await statuses(env.gw, parent.key, 1)).toEqual([200])
  })
})

describe('per-model limits', () => {
  test('global MODEL_LIMITS applies per account; other models are free of it', async () => {
    const a = await addUnder(env.gw, null)
    const b = await addUnder(env.gw, null)
    expect(await statuses(env.gw, a.key, 3)).toEqual([200, 200, 429])
    const denied = await chat(env.gw, a.key)
    expect(denied.headers.get('x-ratelimit-scope'), denied.text).toBe(
      'this account, model gpt-4o-mini',
    )
    expect(await statuses(env.gw, b.key, 2)).toEqual([200, 200])
    expect(await statuses(env.gw, a.key, 3, { model: 'gpt-4o' })).toEqual([200, 200, 200])
  })

  test("an account's ModelLimits overrides the global entry for that model", async () => {
    const more = await addUnder(env.gw, null, { modelLimits: { 'gpt-4o-mini': { rpm: 4 } } })
    expect(await statuses(env.gw, more.key, 5)).toEqual([200, 200, 200, 200, 429])
    const free = await addUnder(env.gw, null, { modelLimits: { 'gpt-4o-mini': { rpm: 0 } } })
    expect(await statuses(env.gw, free.key, 4)).toEqual([200, 200, 200, 200])
    const tight = await addUnder(env.gw, null, { modelLimits: { 'gpt-4o*': { rpm: 1 } } })
    expect(await statuses(env.gw, tight.key, 2, { model: 'gpt-4o' })).toEqual([200, 429])
  })

  test("an ancestor's ModelLimits caps the subtree for that model only", async () => {
    const parent = await addUnder(env.gw, null, { modelLimits: { 'gpt-4o': { rpm: 2 } } })
    const a = await addUnder(env.gw, parent.account)
    const b = await addUnder(env.gw, parent.account)
    expect(await statuses(env.gw, a.key, 1, { model: 'gpt-4o' })).toEqual([200])
    expect(await statuses(env.gw, b.key, 2, { model: 'gpt-4o' })).toEqual([200, 429])
    const denied = await chat(env.gw, a.key, { model: 'gpt-4o' })
    expect(denied.headers.get('x-ratelimit-scope'), denied.text).toBe(
      'parent account, model gpt-4o',
    )
    expectNoLeak(denied, parent.account)
    expect(await statuses(env.gw, a.key, 1, { model: 'gpt-4o-mini' })).toEqual([200])
  })

  test('a wildcard entry counts the whole family in one window (Anthropic surface)', async () => {
    const a = await addUnder(env.gw, null)
    const msg = (model: string) =>
      call(env.gw, 'POST', '/v1/messages', {
        headers: { 'x-api-key': a.key, 'anthropic-version': '2023-06-01' },
        body: { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
      })
    const first = await msg('claude-haiku-4-5')
    expect(first.status, first.text).toBe(200)
    const second = await msg('claude-sonnet-4-5')
    expect(second.status, second.text).toBe(429)
    expect(second.body.type, second.text).toBe('error')
    expect(second.body.error.type, second.text).toBe('rate_limit_error')
    expect(second.headers.get('x-ratelimit-scope')).toBe('this account, model claude-*')
  })
})

describe('limits changed through the admin API', () => {
  test('PUT /x-users lowers RPM and the next call obeys it', async () => {
    const a = await addUnder(env.gw, null, { rpm: 100 })
    expect(await statuses(env.gw, a.key, 2, { model: 'gpt-4o' })).toEqual([200, 200])
    const put = await call(env.gw, 'PUT', `/x-users/${a.account.id}`, {
      key: env.gw.rootKey,
      body: { RPM: 2 },
    })
    expect(put.status, put.text).toBe(200)
    const denied = await chat(env.gw, a.key, { model: 'gpt-4o' })
    expect(denied.status, denied.text).toBe(429)
    expect(denied.headers.get('x-ratelimit-limit-requests')).toBe('2')
  })
})

describe('MODEL_LIMITS through /x-config', () => {
  test('a POSTed value applies to the next call; DELETE brings back the environment default', async () => {
    const a = await addUnder(env.gw, null)
    const set = await call(env.gw, 'POST', '/x-config', {
      key: env.gw.rootKey,
      body: { MODEL_LIMITS: { 'gpt-4o': { rpm: 1 } } },
    })
    expect(set.status, set.text).toBe(200)
    expect(await statuses(env.gw, a.key, 2, { model: 'gpt-4o' })).toEqual([200, 429])
    // The environment's gpt-4o-mini entry is gone while the stored value holds.
    expect(await statuses(env.gw, a.key, 3)).toEqual([200, 200, 200])
    const del = await call(env.gw, 'DELETE', '/x-config', {
      key: env.gw.rootKey,
      body: { keys: ['MODEL_LIMITS'] },
    })
    expect(del.status, del.text).toBe(200)
    const b = await addUnder(env.gw, null)
    expect(await statuses(env.gw, b.key, 2, { model: 'gpt-4o' })).toEqual([200, 200])
    expect(await statuses(env.gw, b.key, 3)).toEqual([200, 200, 429])
  })
})
