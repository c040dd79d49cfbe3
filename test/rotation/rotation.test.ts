import { afterAll, describe, expect, test } from 'bun:test'
import { generateKey, hashKey } from '../../src/shared/ids'
import { addAccount, call, makeApp, opRows } from '../reports/fixtures'

// 2026-01-15 20:00 UTC is already 2026-01-16 in Tokyo.
const t = await makeApp({ TZ: 'Asia/Tokyo' }, Date.parse('2026-01-15T20:00:00Z'))
afterAll(() => t.close())
const alice = await addAccount(t, null, { name: 'alice' })
const bob = await addAccount(t, null, { name: 'bobbb' })
const whoami = async (key: string) =>
  (await call(t, 'GET', '/dashboard/x-user-status', { key })).status
const hashOf = async (id: number) =>
  ((await t.deps.sql.get('SELECT key_hash FROM accounts WHERE id = ?', [id])) as { key_hash: string })
    .key_hash

describe('POST /x-self', () => {
  test('a wrong confirm is 400 showing the expected form, and changes nothing', async () => {
    for (const confirm of [
      'yes',
      '2026-01-14-ROTATE-SELF',
      '2026-01-16-ROTATE-ROOT',
      '2026-01-17-ROTATE-SELF',
    ]) {
      const r = await call(t, 'POST', '/x-self', { key: alice.key, body: { confirm } })
      expect(r.status, r.text).toBe(400)
      const msg: string = r.body.error.message
      expect(msg).toStartWith('confirm must be "2026-01-16-ROTATE-SELF"')
      expect(msg.split('2026-01-16-ROTATE-SELF').length).toBe(2) // said once
      expect(msg).not.toContain('or in UTC')
      expect(r.body.error.param).toBe('confirm')
    }
    expect((await call(t, 'POST', '/x-self', { key: alice.key, body: {} })).status).toBe(400)
    expect(await hashOf(alice.account.id)).toBe(hashKey(alice.key))
    expect(await opRows(t, 'rotate_self')).toEqual([])
  })

  test("today's date in TZ: new key shown once, old key refused at once (cache included), logged", async () => {
    expect(await whoami(alice.key)).toBe(200) // the key now sits in the auth cache
    const r = await call(t, 'POST', '/x-self', {
      key: alice.key,
      body: { confirm: '2026-01-16-ROTATE-SELF' },
    })
    expect(r.status, r.text).toBe(200)
    expect(r.body).toEqual({
      success: true,
      message: 'Self key rotated successfully',
      rotate: {
        action: 'rotate_self',
        id: alice.account.id,
        name: 'alice',
        key: expect.stringMatching(/^sk-Xvs[A-Za-z0-9]{45}$/),
        timestamp: '2026-01-15T20:00:00.000Z',
      },
    })
    const fresh = r.body.rotate.key as string
    expect(await whoami(alice.key)).toBe(401)
    expect(await whoami(fresh)).toBe(200)
    expect(await hashOf(alice.account.id)).toBe(hashKey(fresh))
    const log = (await opRows(t, 'rotate_self'))[0]!
    expect(log).toMatchObject({ operator_id: alice.account.id, target_id: alice.account.id })
    expect(log.details.partial_key).toBe(fresh.slice(-8))
    expect(JSON.stringify(log)).not.toContain(fresh)
    alice.key = fresh
  })

  test('the UTC date is accepted too', async () => {
    const r = await call(t, 'POST', '/x-self', {
      key: bob.key,
      body: { confirm: '2026-01-15-ROTATE-SELF' },
    })
    expect(r.status, r.text).toBe(200)
    expect(await whoami(bob.key)).toBe(401)
    bob.key = r.body.rotate.key
  })

  test('a wrong key is 401', async () => {
    const r = await call(t, 'POST', '/x-self', {
      key: generateKey(),
      body: { confirm: '2026-01-16-ROTATE-SELF' },
    })
    expect(r.status).toBe(401)
  })
})

describe('POST /x-root', () => {
  const confirm = '2026-01-16-ROTATE-ROOT'

  test('non-root is 403 and changes nothing', async () => {
    const r = await call(t, 'POST', '/x-root', { key: alice.key, body: { confirm, name: 'bobbb' } })
    expect(r.status, r.text).toBe(403)
    expect(await hashOf(bob.account.id)).toBe(hashKey(bob.key))
    expect(
      (await call(t, 'POST', '/x-root', { key: generateKey(), body: { confirm } })).status,
    ).toBe(401)
  })

  test('a wrong confirm is 400 with the expected form', async () => {
    const r = await call(t, 'POST', '/x-root', {
      key: t.rootKey,
      body: { confirm: '2026-01-16-ROTATE-SELF' },
    })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.message).toContain('"2026-01-16-ROTATE-ROOT"')
  })

  test("a named account's key, to a given key that was tried before (negative cache)", async () => {
    const wanted = generateKey()
    expect(await whoami(wanted)).toBe(401) // now cached as unknown
    expect(await whoami(bob.key)).toBe(200)
    const r = await call(t, 'POST', '/x-root', {
      key: t.rootKey,
      body: { confirm, name: 'bobbb', key: wanted },
    })
    expect(r.status, r.text).toBe(200)
    expect(r.body.rotate).toMatchObject({
      action: 'rotate_root',
      id: bob.account.id,
      name: 'bobbb',
      key: wanted,
    })
    expect(await whoami(bob.key)).toBe(401)
    expect(await whoami(wanted)).toBe(200)
    expect((await opRows(t, 'rotate_root'))[0]).toMatchObject({ operator_id: 1, target_id: bob.account.id })
    bob.key = wanted
  })

  test('a key in use is 409, a malformed key 400, an unknown name 404; nothing changes', async () => {
    const before = [hashOf(alice.account.id), hashOf(bob.account.id)]
    const inUse = await call(t, 'POST', '/x-root', {
      key: t.rootKey,
      body: { confirm, name: 'alice', key: bob.key },
    })
    expect(inUse.status, inUse.text).toBe(409)
    const own = await call(t, 'POST', '/x-root', {
      key: t.rootKey,
      body: { confirm, name: 'alice', key: alice.key },
    })
    expect(own.status, own.text).toBe(409)
    const bad = await call(t, 'POST', '/x-root', {
      key: t.rootKey,
      body: { confirm, name: 'alice', key: 'sk-short' },
    })
    expect(bad.status, bad.text).toBe(400)
    expect(bad.body.error.message).toStartWith('key')
    const unknown = await call(t, 'POST', '/x-root', {
      key: t.rootKey,
      body: { confirm, name: 'nobody' },
    })
    expect(unknown.status, unknown.text).toBe(404)
    expect([hashOf(alice.account.id), hashOf(bob.account.id)]).toEqual(before)
  })

  test("root's own key by default", async () => {
    const r = await call(t, 'POST', '/x-root', {
      key: t.rootKey,
      body: { confirm: '2026-01-15-ROTATE-ROOT' },
    })
    expect(r.status, r.text).toBe(200)
    expect(r.body.rotate).toMatchObject({ action: 'rotate_root', id: 1, name: 'root' })
    expect(await whoami(t.rootKey)).toBe(401)
    expect(await whoami(r.body.rotate.key)).toBe(200)
  })
})

const utcApp = await makeApp({ TZ: 'UTC' }, Date.parse('2026-01-15T20:00:00Z'))
describe('confirm when TZ is UTC', async () => {
  const u = utcApp
  afterAll(() => u.close())
  const carol = await addAccount(u, null, { name: 'carol' })
  test('the error names the one expected string, with no second date', async () => {
    const r = await call(u, 'POST', '/x-self', { key: carol.key, body: { confirm: 'yes' } })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.message).toBe(
      'confirm must be "2026-01-15-ROTATE-SELF": today\'s date in UTC followed by -ROTATE-SELF',
    )
  })
})
