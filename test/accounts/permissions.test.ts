// Who may act on whom: self, child, grandchild, sibling, ancestor, root; identifiers of every
// kind; root-only fields; the least balance for the API; disabled accounts and subtrees.
import { beforeAll, describe, expect, test } from 'bun:test'
import { stateDigest, useGateway } from './helpers'

const h = useGateway({ USER_API_MIN_BALANCE: '20' })

type Acc = { id: number; name: string; key: string }
let A: Acc, A1: Acc, A11: Acc, B: Acc

beforeAll(async () => {
  A = await h.child(h.gw.rootKey, { CreditGranted: 1000 })
  B = await h.child(h.gw.rootKey, { CreditGranted: 1000 })
  A1 = await h.child(A.key, { CreditGranted: 100 })
  A11 = await h.child(A1.key, { CreditGranted: 30 })
})

const idents = (a: Acc) => [String(a.id), a.name, `${a.name}@example.com`]

describe('reading', () => {
  test('self, child and grandchild are visible through /x-dna by ID, Name and Email', async () => {
    for (const target of [A, A1, A11]) {
      for (const ident of idents(target)) {
        const r = await h.req('GET', `/x-dna/${encodeURIComponent(ident)}`, A.key)
        expect(r.status, `${ident}: ${r.text}`).toBe(200)
        expect(r.body.ID, r.text).toBe(target.id)
      }
    }
  })

  test('a DNA group in /x-dna lists that account and those below it, within your subtree', async () => {
    const groups: Array<[Acc, number[]]> = [
      [A, [A1.id, A11.id]],
      [A1, [A1.id, A11.id]],
      [A11, [A11.id]],
    ]
    for (const [top, ids] of groups) {
      const dna = (await h.get(top.id)).DNA
      const r = await h.req('GET', `/x-dna/${encodeURIComponent(dna)}`, A.key)
      expect(r.status, `${dna}: ${r.text}`).toBe(200)
      expect(
        r.body.map((u: any) => u.ID),
        r.text,
      ).toEqual(ids)
    }
  })

  test('/x-users/{id} names only yourself or a direct child', async () => {
    for (const target of [A, A1]) {
      const r = await h.req('GET', `/x-users/${target.name}`, A.key)
      expect(r.status, r.text).toBe(200)
    }
    const grand = await h.req('GET', `/x-users/${A11.id}`, A.key)
    expect(grand.status, grand.text).toBe(404)
  })

  test('sibling, ancestor and unknown targets answer 404, the same as a missing account', async () => {
    for (const ident of [
      ...idents(B),
      ...idents({ id: 1, name: 'root', key: '' }),
      '999999',
      'nobody-here',
      '.1.',
    ]) {
      for (const path of [
        `/x-dna/${encodeURIComponent(ident)}`,
        `/x-users/${encodeURIComponent(ident)}`,
      ]) {
        const r = await h.req('GET', path, A1.key)
        expect(r.status, `${path}: ${r.text}`).toBe(404)
        expect(r.body.error.code, r.text).toBe('not_found')
      }
    }
  })

  test('lists hold only the caller subtree', async () => {
    const r = await h.req('GET', '/x-dna', A.key)
    expect(r.status, r.text).toBe(200)
    expect(
      r.body.map((u: any) => u.ID),
      r.text,
    ).toEqual([A1.id, A11.id])
    const kids = await h.req('GET', '/x-users', A.key)
    expect(
      kids.body.map((u: any) => u.ID),
      kids.text,
    ).toEqual([A1.id])
  })
})

describe('writing', () => {
  test('an ancestor updates, funds and deducts a child and a grandchild', async () => {
    for (const target of [A1, A11]) {
      for (const body of [
        { Alias: `by-A-${target.id}` },
        { CreditGranted: 1 },
        { CreditGranted: -1 },
      ]) {
        const r = await h.req('PUT', `/x-users/${target.name}`, A.key, body)
        expect(r.status, `${JSON.stringify(body)}: ${r.text}`).toBe(200)
      }
    }
    const post = await h.req('POST', `/x-users/${A11.id}`, A.key, { Tier: 4 })
    expect(post.status, post.text).toBe(200)
    expect(post.body.User.Updates, post.text).toEqual(expect.objectContaining({ Tier: 4 }))
  })

  test('a sibling, an ancestor or root cannot be changed or deleted: 404, nothing changes', async () => {
    const before = await stateDigest(h.gw)
    for (const target of [B, A, { id: 1, name: 'root', key: '' }]) {
      const put = await h.req('PUT', `/x-users/${target.id}`, A1.key, {
        Alias: 'x',
        CreditGranted: 5,
      })
      expect(put.status, put.text).toBe(404)
      const del = await h.req('DELETE', `/x-users/${target.name}`, A1.key)
      expect(del.status, del.text).toBe(404)
    }
    expect(await stateDigest(h.gw)).toBe(before)
  })

  test('on itself an account may change only Alias and BillingEmail, and may not delete itself', async () => {
    const ok = await h.req('PUT', `/x-users/${A1.id}`, A1.key, {
      Alias: 'me',
      BillingEmail: 'bills@example.com',
    })
    expect(ok.status, ok.text).toBe(200)
    expect(ok.body.User.Updates, ok.text).toMatchObject({
      Alias: 'me',
      BillingEmail: 'bills@example.com',
    })
    for (const body of [{ Rates: 3 }, { CreditGranted: 10 }, { Status: false }, { RPM: 1 }]) {
      const r = await h.req('PUT', `/x-users/${A1.id}`, A1.key, body)
      expect(r.status, r.text).toBe(403)
      expect(r.body.error.message, r.text).toContain(Object.keys(body)[0]!)
    }
    const del = await h.req('DELETE', `/x-users/${A1.id}`, A1.key)
    expect(del.status, del.text).toBe(403)
  })

  test('root-only fields are 403 for anyone else and fine for root', async () => {
    for (const body of [{ Level: 3 }, { ModelMapper: 'a=b' }, { LevelMapper: { 'o1*': 2 } }]) {
      const r = await h.req('PUT', `/x-users/${A1.id}`, A.key, body)
      expect(r.status, r.text).toBe(403)
      expect(r.body.error.message, r.text).toContain(Object.keys(body)[0]!)
      const byRoot = await h.req('PUT', `/x-users/${A1.id}`, h.gw.rootKey, body)
      expect(byRoot.status, byRoot.text).toBe(200)
    }
  })
})

describe('the caller gate', () => {
  test('a wrong or missing key is 401', async () => {
    for (const key of ['sk-Xvs' + 'Z'.repeat(45), 'nonsense', '']) {
      const r = await h.req('GET', '/x-users', key)
      expect(r.status, r.text).toBe(401)
    }
  })

  test('a non-root caller below USER_API_MIN_BALANCE gets 401 on every subaccount endpoint', async () => {
    const poor = await h.child(A.key, { CreditGranted: 19 })
    for (const [m, p] of [
      ['GET', '/x-users'],
      ['GET', '/x-dna'],
      ['POST', '/x-users'],
      ['PUT', `/x-users/${poor.id}`],
    ] as const) {
      const r = await h.req(m, p, poor.key, m === 'GET' ? undefined : { Alias: 'x' })
      expect(r.status, `${m} ${p}: ${r.text}`).toBe(401)
      expect(r.body.error.code, r.text).toBe('api_balance_too_low')
    }
    const logs = await h.req('GET', '/dashboard/x-user-logs', poor.key)
    expect(logs.status, `the dashboard needs no balance: ${logs.text}`).toBe(200)
  })

  test('a disabled account and its whole subtree are refused with 401 account_disabled', async () => {
    const top = await h.child(h.gw.rootKey, { CreditGranted: 500 })
    const mid = await h.child(top.key, { CreditGranted: 100 })
    const low = await h.child(mid.key, { CreditGranted: 30 })
    const off = await h.req('PUT', `/x-users/${mid.id}`, top.key, { Status: false })
    expect(off.status, off.text).toBe(200)
    for (const key of [mid.key, low.key]) {
      const r = await h.req('GET', '/x-dna', key)
      expect(r.status, r.text).toBe(401)
      expect(r.body.error.code, r.text).toBe('account_disabled')
    }
    const tree = h.gw.deps.accounts.tree
    const lowAccount = tree.get(low.id)!
    expect(tree.isUsable(lowAccount)).toBe(false)
    expect(tree.view(low.id)!.usable).toBe(false)
    const stillMine = await h.req('GET', `/x-dna/${low.id}`, top.key)
    expect(
      stillMine.status,
      `an ancestor still manages a disabled subtree: ${stillMine.text}`,
    ).toBe(200)
    const on = await h.req('PUT', `/x-users/${mid.id}`, top.key, { Status: true })
    expect(on.status, on.text).toBe(200)
    const back = await h.req('GET', '/x-dna', low.key)
    expect(back.status, back.text).toBe(200)
    expect(tree.view(low.id)!.usable).toBe(true)
  })
})
