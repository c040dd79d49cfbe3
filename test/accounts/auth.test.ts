import { afterAll, describe, expect, test } from 'bun:test'
import { adminAuth, extractKey } from '../../src/accounts/auth'
import { baseAccount } from '../../src/accounts/bootstrap'
import { generateKey, hashKey, isKeyFormat, partialKey, sameHash } from '../../src/shared/ids'
import { makeTestApp } from '../helpers/app'

const t = await makeTestApp()
const app = t.app.use(adminAuth(t.deps.accounts.auth)).get('/x-whoami', ({ caller }) => ({ id: caller.id, name: caller.name }))
afterAll(() => t.close())

const get = async (headers: Record<string, string>) => {
  const res = await app.handle(new Request('http://localhost/x-whoami', { headers }))
  return { status: res.status, body: (await res.json()) as any }
}

describe('account keys', () => {
  test('format: sk-Xvs + 45 alphanumerics, 51 in all, all different', () => {
    const keys = new Set(Array.from({ length: 2000 }, generateKey))
    expect(keys.size).toBe(2000)
    for (const k of keys) {
      expect(k).toHaveLength(51)
      expect(isKeyFormat(k)).toBe(true)
    }
    expect(isKeyFormat('sk-Xvs' + 'a'.repeat(44))).toBe(false)
    expect(isKeyFormat('sk-Xvs' + 'a'.repeat(44) + '!')).toBe(false)
    expect(partialKey('sk-Xvs' + 'a'.repeat(37) + 'ABCDEFGH')).toBe('ABCDEFGH')
  })

  test('stored as SHA-256 and compared in constant time', async () => {
    const k = generateKey()
    expect(hashKey(k)).toMatch(/^[0-9a-f]{64}$/)
    expect(sameHash(hashKey(k), hashKey(k))).toBe(true)
    expect(sameHash(hashKey(k), hashKey(generateKey()))).toBe(false)
    const row = (await t.store.sql.get('SELECT key_hash, key_tail FROM accounts WHERE id = 1')) as { key_hash: string; key_tail: string }
    expect(row.key_hash).toBe(hashKey(t.rootKey))
    expect(JSON.stringify((await t.store.sql.all('SELECT * FROM accounts')))).not.toContain(t.rootKey)
  })

  test('extractKey accepts Bearer, bare Authorization and x-api-key', () => {
    expect(extractKey(new Headers({ authorization: 'Bearer abc' }))).toBe('abc')
    expect(extractKey(new Headers({ authorization: 'bearer   abc ' }))).toBe('abc')
    expect(extractKey(new Headers({ authorization: 'abc' }))).toBe('abc')
    expect(extractKey(new Headers({ 'x-api-key': 'abc' }))).toBe('abc')
    expect(extractKey(new Headers({}))).toBeNull()
  })
})

describe('authentication over HTTP', () => {
  test('a good key in each accepted header authenticates', async () => {
    const forms: Record<string, string>[] = [{ authorization: `Bearer ${t.rootKey}` }, { authorization: t.rootKey }, { 'x-api-key': t.rootKey }]
    for (const h of forms) {
      const r = await get(h)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      expect(r.body).toEqual({ id: 1, name: 'root' })
    }
  })

  test('missing header, malformed key and unknown key are 401 in the error shape', async () => {
    const missing = await get({})
    expect(missing.status).toBe(401)
    expect(missing.body.error.code).toBe('missing_api_key')
    const bad = await get({ authorization: 'Bearer sk-nope' })
    expect(bad.status).toBe(401)
    expect(bad.body).toEqual({ error: { message: 'invalid API key', type: 'authentication_error', code: 'invalid_api_key' } })
    const unknown = await get({ authorization: `Bearer ${generateKey()}` })
    expect(unknown.status).toBe(401)
    expect(unknown.body.error.code).toBe('invalid_api_key')
  })

  test('a disabled account is refused, and the cache follows the change event', async () => {
    const key = generateKey()
    const now = Date.now()
    const acc = await t.deps.accounts.repo.insert(
      { ...baseAccount(now), parentId: 1, name: 'carol', email: 'carol@example.com', alias: 'carol', keyHash: hashKey(key), keyTail: partialKey(key) },
      '.1.',
    )
    expect((await get({ authorization: `Bearer ${key}` })).status).toBe(200)
    await t.store.sql.run('UPDATE accounts SET status = 0 WHERE id = ?', [acc.id])
    t.deps.events.accountChanged({ id: acc.id, name: acc.name, dna: acc.dna })
    const r = await get({ authorization: `Bearer ${key}` })
    expect(r.status).toBe(401)
    expect(r.body.error.code).toBe('account_disabled')
  })
})
