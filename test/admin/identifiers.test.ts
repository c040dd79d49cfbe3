// Identifiers in a GET path: a single one (ID, Name, Email) answers one object on /x-users,
// /x-dna and /x-keys; a filter (L{n} …) or a DNA group answers an array. A descendant below a
// direct child is a 404 on /x-users that points to /x-dna; a bare filter in the query works like
// one in the path; GET /x-keys/ is the list.
import { beforeAll, describe, expect, test } from 'bun:test'
import { useGateway } from '../accounts/helpers'

const h = useGateway()
type Acc = { id: number; name: string; key: string }
let top: Acc, kidA: Acc, kidB: Acc, grand: Acc

beforeAll(async () => {
  top = await h.child(h.gw.rootKey, { CreditGranted: 1000 })
  kidA = await h.child(top.key, { CreditGranted: 100 })
  kidB = await h.child(top.key, { CreditGranted: 100, Gear: 7 })
  grand = await h.child(kidA.key, { CreditGranted: 10, Gear: 7 })
})

const ids = (body: unknown) => (body as Array<{ ID: number }>).map((u) => u.ID)

describe('/x-users/{id} and /x-dna/{id}', () => {
  test('ID, Name and Email answer one user object', async () => {
    for (const path of ['/x-users', '/x-dna']) {
      for (const ident of [String(kidA.id), kidA.name, `${kidA.name}@example.com`]) {
        const r = await h.req('GET', `${path}/${encodeURIComponent(ident)}`, top.key)
        expect(r.status, `${path}/${ident}: ${r.text}`).toBe(200)
        expect(Array.isArray(r.body), `${path}/${ident}: ${r.text}`).toBe(false)
        expect(r.body, r.text).toMatchObject({ ID: kidA.id, Name: kidA.name, SecretKey: '***' })
      }
    }
    const self = await h.req('GET', `/x-users/${top.id}`, top.key)
    expect(self.body.ID, self.text).toBe(top.id)
  })

  test('a filter answers an array with the paging headers', async () => {
    const g7 = await h.req('GET', '/x-users/G7', top.key)
    expect(g7.status, g7.text).toBe(200)
    expect(ids(g7.body), g7.text).toEqual([kidB.id])
    expect(g7.headers.get('x-total-count')).toBe('1')
    const deep = await h.req('GET', '/x-dna/G7', top.key)
    // DNA order: the grandchild (.1.x.A.g.) comes before the second child (.1.x.B.).
    expect(ids(deep.body), deep.text).toEqual([grand.id, kidB.id])
  })

  test('a DNA group answers an array: that account and those below it, in scope', async () => {
    const dna = (await h.get(kidA.id)).DNA
    const sub = await h.req('GET', `/x-dna/${dna}`, top.key)
    expect(sub.status, sub.text).toBe(200)
    expect(ids(sub.body), sub.text).toEqual([kidA.id, grand.id])
    const children = await h.req('GET', `/x-users/${dna}`, top.key)
    expect(ids(children.body), children.text).toEqual([kidA.id])
  })

  test('a descendant that is not a direct child: 404 saying so, pointing to /x-dna', async () => {
    for (const ident of [String(grand.id), grand.name]) {
      const r = await h.req('GET', `/x-users/${ident}`, top.key)
      expect(r.status, r.text).toBe(404)
      expect(r.body.error.code, r.text).toBe('not_found')
      expect(r.body.error.message, r.text).toContain('is not a direct subaccount')
      expect(r.body.error.message, r.text).toContain(`/x-dna/${ident}`)
      const dna = await h.req('GET', `/x-dna/${ident}`, top.key)
      expect(dna.body.ID, dna.text).toBe(grand.id)
    }
  })

  test('outside the subtree stays the plain 404 (no hint)', async () => {
    const r = await h.req('GET', `/x-users/${kidB.id}`, kidA.key)
    expect(r.status, r.text).toBe(404)
    expect(r.body.error.message, r.text).not.toContain('direct subaccount')
  })

  test('a bare filter in the query works like one in the path', async () => {
    const bare = await h.req('GET', '/x-users?G7', top.key)
    expect(bare.status, bare.text).toBe(200)
    expect(ids(bare.body), bare.text).toEqual([kidB.id])
    const paged = await h.req('GET', '/x-dna?G7&size=1&page=2', top.key)
    expect(ids(paged.body), paged.text).toEqual([kidB.id])
    expect(paged.headers.get('x-total-count')).toBe('2')
    const both = await h.req('GET', '/x-users?G7&L1', top.key)
    expect(both.status, both.text).toBe(400)
  })
})

describe('/x-keys/{id}', () => {
  let id = 0
  beforeAll(async () => {
    for (const [name, level] of [
      ['first key', 2],
      ['second key', 2],
      ['third key', 3],
    ] as const) {
      const r = await h.req('POST', '/x-keys', h.gw.rootKey, {
        SecretKey: `sk-test-${name.replace(' ', '')}-0123456789`,
        Name: name.replace(' ', '-'),
        Level: level,
        Provider: 'http://127.0.0.1:9/',
      })
      expect(r.status, r.text).toBe(200)
      id ||= r.body.Key.ID
    }
  })

  test('ID and Name answer one key object', async () => {
    for (const ident of [String(id), 'first-key']) {
      const r = await h.req('GET', `/x-keys/${ident}`, h.gw.rootKey)
      expect(r.status, r.text).toBe(200)
      expect(Array.isArray(r.body), r.text).toBe(false)
      expect(r.body, r.text).toMatchObject({ ID: id, Name: 'first-key', Level: 2 })
    }
  })

  test('L{n} answers the array of that level; a key named like it still answers itself', async () => {
    const l2 = await h.req('GET', '/x-keys/L2', h.gw.rootKey)
    expect(l2.status, l2.text).toBe(200)
    expect(
      (l2.body as Array<{ Name: string }>).map((k) => k.Name),
      l2.text,
    ).toEqual(['first-key', 'second-key'])
    const named = await h.req('POST', '/x-keys', h.gw.rootKey, {
      SecretKey: 'sk-test-namedlikefilter-0123456789',
      Name: 'L3',
      Level: 1,
      Provider: 'http://127.0.0.1:9/',
    })
    if (named.status === 200) {
      const r = await h.req('GET', '/x-keys/L3', h.gw.rootKey)
      expect(r.body.Name, r.text).toBe('L3')
      await h.req('DELETE', `/x-keys/${named.body.Key.ID}`, h.gw.rootKey)
    }
  })

  test('GET /x-keys/ (empty id) is the list, documented so', async () => {
    const slash = await h.req('GET', '/x-keys/', h.gw.rootKey)
    const plain = await h.req('GET', '/x-keys', h.gw.rootKey)
    expect(slash.status, slash.text).toBe(200)
    expect(ids(slash.body), slash.text).toEqual(ids(plain.body))
    const lvl = await h.req('GET', '/x-keys/?level=3', h.gw.rootKey)
    expect((lvl.body as unknown[]).length, lvl.text).toBe(1)
    const doc = await h.req('GET', '/swagger/json', h.gw.rootKey)
    expect(doc.status).toBe(200)
    const list = doc.body.paths['/x-keys'].get
    expect(`${list.summary} ${list.description ?? ''}`).toContain('GET /x-keys/')
  })
})
