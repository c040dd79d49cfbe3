// Deny entries through the proxy (§3 list edits, §5): a parent's "-x" set by the admin API blocks
// its child's calls to x with 403 (model, client address, path, key level) while the rest passes;
// a deny anywhere up the tree wins over the child's own list. Denied calls reach no upstream.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { addUnder, chat, startLimitEnv, type LimitEnv } from '../limits/gatekit'
import { call } from '../helpers/gateway'

const xff = (v: string) => ({ headers: { 'x-forwarded-for': v } })

let env: LimitEnv
beforeAll(async () => {
  env = await startLimitEnv({ TRUST_PROXY: '127.0.0.1' })
})
afterAll(() => env.close())

/** PUT /x-users/{id} as root; asserts 200 and returns the answer's Updates. */
async function put(id: number, body: Record<string, unknown>) {
  const r = await call(env.gw, 'PUT', `/x-users/${id}`, { key: env.gw.rootKey, body })
  expect(r.status, r.text).toBe(200)
  return r.body.User.Updates as Record<string, unknown>
}

async function expectDenied(
  res: Promise<{ status: number; body: any; text: string }>,
  code: string,
) {
  const before = env.up.tally.requests
  const r = await res
  expect(r.status, r.text).toBe(403)
  expect(r.body.error.code, r.text).toBe(code)
  expect(env.up.tally.requests, 'a denied call reaches no upstream').toBe(before)
}

describe("a parent's deny entry blocks its child", () => {
  test('AllowModels "-gpt-4o-mini" on the parent: the child gets 403 model_not_allowed', async () => {
    const parent = await addUnder(env.gw, null)
    const child = await addUnder(env.gw, parent.account, { allowModels: ['gpt-4o-mini', 'gpt-4o'] })
    expect((await chat(env.gw, child.key)).status).toBe(200)
    const u = await put(parent.account.id, { AllowModels: '-gpt-4o-mini' })
    expect(u.AllowModels).toBe('* -gpt-4o-mini')
    await expectDenied(chat(env.gw, child.key), 'model_not_allowed')
    expect((await chat(env.gw, child.key, { model: 'gpt-4o' })).status).toBe(200)
    // The child lifting it on itself does not escape the parent's deny.
    await put(child.account.id, { AllowModels: '+gpt-4o-mini' })
    await expectDenied(chat(env.gw, child.key), 'model_not_allowed')
    const models = await call(env.gw, 'GET', '/v1/models', { key: child.key })
    const ids = (models.body.data as Array<{ id: string }>).map((m) => m.id)
    expect(ids, models.text).not.toContain('gpt-4o-mini')
    // Lifted on the parent, the call passes again.
    expect((await put(parent.account.id, { AllowModels: '+gpt-4o-mini' })).AllowModels).toBe('*')
    expect((await chat(env.gw, child.key)).status).toBe(200)
  })

  test('AllowIPs: a CIDR denied inside the allowed range', async () => {
    const parent = await addUnder(env.gw, null)
    const child = await addUnder(env.gw, parent.account)
    await put(parent.account.id, { AllowIPs: '10.0.0.0/8' })
    const u = await put(parent.account.id, { AllowIPs: '-10.1.0.0/16' })
    expect(u.AllowIPs).toBe('10.0.0.0/8 -10.1.0.0/16')
    expect((await chat(env.gw, child.key, xff('10.2.0.1'))).status).toBe(200)
    await expectDenied(chat(env.gw, child.key, xff('10.1.2.3')), 'ip_not_allowed')
    await expectDenied(chat(env.gw, child.key, xff('192.0.2.1')), 'ip_not_allowed')
  })

  test('Resources: a path denied on an unrestricted list', async () => {
    const parent = await addUnder(env.gw, null)
    const child = await addUnder(env.gw, parent.account)
    await put(parent.account.id, { Resources: '-/v1/embeddings' })
    const emb = { key: child.key, body: { model: 'text-embedding-3-small', input: 'hi' } }
    await expectDenied(call(env.gw, 'POST', '/v1/embeddings', emb), 'resource_not_allowed')
    expect((await chat(env.gw, child.key)).status).toBe(200)
  })

  test("AllowLevels: the child's key level denied by the grandparent", async () => {
    const grand = await addUnder(env.gw, null)
    const parent = await addUnder(env.gw, grand.account, { allowLevels: [1, 2] })
    const child = await addUnder(env.gw, parent.account)
    expect((await chat(env.gw, child.key)).status).toBe(200)
    const u = await put(grand.account.id, { AllowLevels: `-${child.account.level}` })
    expect(u.AllowLevels).toBe(`* -${child.account.level}`)
    await expectDenied(chat(env.gw, child.key), 'level_not_allowed')
  })
})
