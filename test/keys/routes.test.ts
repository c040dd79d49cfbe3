import { openDataOf } from '../helpers/engine'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'
import { generateKey, hashKey, partialKey } from '../../src/shared/ids'
import { baseAccount } from '../../src/accounts/bootstrap'

let gw: TestGateway
let childKey: string

beforeAll(async () => {
  gw = await startTestGateway({
    INIT_KEYS:
      'sk-init-secret-0001::https://api.openai.com/v1,sk-ant-init-0002::https://api.anthropic.com',
  })
  childKey = generateKey()
  const repo = gw.deps.accounts.repo
  await repo.insert(
    {
      ...baseAccount(Date.now()),
      parentId: 1,
      name: 'tenant1',
      email: 't1@example.com',
      alias: 'tenant1',
      keyHash: hashKey(childKey),
      keyTail: partialKey(childKey),
    },
    '.1.',
  )
})
afterAll(() => gw.close())

const root = () => gw.rootKey

describe('/x-keys happy path', () => {
  test('INIT_KEYS seeded two level-1 keys with inferred types, secrets masked', async () => {
    const r = await call(gw, 'GET', '/x-keys', { key: root() })
    expect(r.status, r.text).toBe(200)
    expect(r.body.map((k: any) => [k.Name, k.Level, k.Type, k.Provider, k.SecretKey])).toEqual([
      ['key-1', 1, 'openai', 'https://api.openai.com', '***0001'],
      ['key-2', 1, 'anthropic', 'https://api.anthropic.com', '***0002'],
    ])
    expect(r.text).not.toContain('sk-init-secret')
  })

  test('add, read, update, filter, delete; every write in the op log', async () => {
    const add = await call(gw, 'POST', '/x-keys', {
      key: root(),
      body: {
        SecretKey: 'sk-test-abcdefgh1234',
        Name: 'primary',
        Level: 2,
        Provider: 'http://127.0.0.1:9/',
        Weight: 3,
      },
    })
    expect(add.status, add.text).toBe(200)
    expect(add.body.Action).toBe('add')
    expect(add.body.Key).toMatchObject({
      Name: 'primary',
      Level: 2,
      Type: 'openai',
      Weight: 3,
      State: 'active',
      SecretKey: '***1234',
    })
    const id = add.body.Key.ID

    const byName = await call(gw, 'GET', '/x-keys/primary', { key: root() })
    expect(byName.body.ID).toBe(id)

    const upd = await call(gw, 'PUT', `/x-keys/${id}`, {
      key: root(),
      body: { Status: false, Type: 'anthropic' },
    })
    expect(upd.status, upd.text).toBe(200)
    expect(upd.body.Key).toMatchObject({
      Status: false,
      Type: 'anthropic',
      State: 'disabled',
      DisabledReason: 'disabled by the operator',
    })
    expect(gw.deps.keys.pool.pick(2, 'anthropic')).toBeNull()

    const lvl2 = await call(gw, 'GET', '/x-keys?level=2', { key: root() })
    expect(lvl2.body.map((k: any) => k.ID)).toEqual([id])
    const off = await call(gw, 'GET', '/x-keys?status=disabled', { key: root() })
    expect(off.body.map((k: any) => k.ID)).toEqual([id])

    const on = await call(gw, 'PUT', `/x-keys/${id}`, { key: root(), body: { Status: true } })
    expect(on.body.Key.State).toBe('active')
    expect(gw.deps.keys.pool.pick(2, 'anthropic')?.id).toBe(id)

    const del = await call(gw, 'DELETE', `/x-keys/${id}`, { key: root() })
    expect(del.body).toEqual({ Action: 'delete', Key: { ID: id, Name: 'primary' } })
    expect(gw.deps.keys.pool.get(id)).toBeUndefined()
    const gone = await call(gw, 'GET', `/x-keys/${id}`, { key: root() })
    expect(gone.status).toBe(404)

    const actions = (await gw.deps.sql.all("SELECT action, details FROM op_logs WHERE action LIKE '%_key' ORDER BY id")) as any[]
    expect(actions.map((a) => a.action)).toEqual([
      'add_key',
      'update_key',
      'update_key',
      'delete_key',
    ])
    expect(actions.map((a) => a.details).join()).not.toContain('abcdefgh')
  })

  test('secret encrypted at rest; master.key is 0600', async () => {
    const mode = statSync(join(gw.dataDir, 'master.key')).mode & 0o777
    expect(mode).toBe(0o600)
    const db = await openDataOf(gw.dataDir)
    const rows = await db.all<{ secret_enc: string }>('SELECT secret_enc FROM upstream_keys')
    await db.close()
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) {
      expect(r.secret_enc.startsWith('v1:')).toBe(true)
      expect(r.secret_enc).not.toContain('sk-')
    }
    expect(readFileSync(join(gw.dataDir, 'master.key'), 'utf8').trim().length).toBe(44)
  })

  test('GET /x-gkey gives a fresh key each time', async () => {
    const a = await call(gw, 'GET', '/x-gkey', { key: root() })
    const b = await call(gw, 'GET', '/x-gkey', { key: root() })
    expect(a.body.key).toMatch(/^sk-Xvs[A-Za-z0-9]{45}$/)
    expect(a.body.key).not.toBe(b.body.key)
  })
})

describe('/x-keys errors', () => {
  test('duplicate secret → 409; bad provider and level → 400', async () => {
    const dup = await call(gw, 'POST', '/x-keys', {
      key: root(),
      body: { SecretKey: 'sk-init-secret-0001', Provider: 'https://x.example' },
    })
    expect(dup.status, dup.text).toBe(409)
    const bad = await call(gw, 'POST', '/x-keys', {
      key: root(),
      body: { SecretKey: 'sk-zz-1', Provider: 'ftp://x' },
    })
    expect(bad.status, bad.text).toBe(400)
    expect(bad.body.error.message).toContain('Provider')
    const lvl = await call(gw, 'POST', '/x-keys', {
      key: root(),
      body: { SecretKey: 'sk-zz-2', Provider: 'https://x.example', Level: 11 },
    })
    expect(lvl.status, lvl.text).toBe(400)
  })
})

describe('/x-keys security', () => {
  test('no key → 401, wrong key → 401, non-root → 403, for every route', async () => {
    for (const [m, p] of [
      ['GET', '/x-keys'],
      ['GET', '/x-keys/1'],
      ['POST', '/x-keys'],
      ['PUT', '/x-keys/1'],
      ['DELETE', '/x-keys/1'],
      ['GET', '/x-gkey'],
    ]) {
      const body =
        m === 'POST' || m === 'PUT'
          ? { SecretKey: 'sk-q', Provider: 'https://x.example' }
          : undefined
      expect((await call(gw, m!, p!, { body })).status).toBe(401)
      expect((await call(gw, m!, p!, { key: generateKey(), body })).status).toBe(401)
      const child = await call(gw, m!, p!, { key: childKey, body })
      expect(child.status, child.text).toBe(403)
    }
    expect(gw.deps.keys.pool.get(1)).toBeDefined()
  })
})

describe('/x-keys Name', () => {
  test('printable text with spaces is a valid Name, on create and on update', async () => {
    const body = {
      SecretKey: 'sk-name-test-0003',
      Name: 'Claude API Key',
      Provider: 'https://api.anthropic.com',
    }
    const c = await call(gw, 'POST', '/x-keys', { key: root(), body })
    expect(c.status, c.text).toBe(200)
    const u = await call(gw, 'PUT', '/x-keys/Claude API Key', { key: root(), body: { Name: 'Updated Name' } })
    expect(u.status, u.text).toBe(200)
    const g = await call(gw, 'GET', '/x-keys', { key: root() })
    expect(g.body.map((k: any) => k.Name)).toContain('Updated Name')
  })

  test('a control character in Name is a 400 naming Name', async () => {
    const body = { SecretKey: 'sk-name-test-0004', Name: 'bad\u0007name', Provider: 'https://api.openai.com' }
    const r = await call(gw, 'POST', '/x-keys', { key: root(), body })
    expect(r.status, r.text).toBe(400)
    expect(r.text).toContain('Name')
  })
})
