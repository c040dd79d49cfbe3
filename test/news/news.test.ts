import { afterAll, describe, expect, test } from 'bun:test'
import { groupsOf } from '../../src/news/service'
import { generateKey } from '../../src/shared/ids'
import { addAccount, call, makeApp, opRows } from '../reports/fixtures'

// root ─ alice ─ amy ─ ann
//      └ bob
const t = await makeApp()
afterAll(() => t.close())
const alice = await addAccount(t, null, { name: 'alice' })
const amy = await addAccount(t, alice.account, { name: 'amyyy' })
const ann = await addAccount(t, amy.account, { name: 'annnn' })
const bob = await addAccount(t, null, { name: 'bobbb' })
const DAY_MS = 86_400_000
const newsCount = async () =>
  ((await t.deps.sql.get('SELECT COUNT(*) AS n FROM news')) as { n: number }).n
const read = async (key: string) => {
  const r = await call(t, 'GET', '/dashboard/x-user-news', { key })
  expect(r.status, r.text).toBe(200)
  return {
    system: r.body.system_news.map((n: any) => n.title),
    user: r.body.user_news.map((n: any) => n.title),
    body: r.body,
  }
}

describe('POST /x-news', () => {
  test('system news by root: 7 days by default, in the answer shape, logged', async () => {
    const now = t.clock.now()
    const r = await call(t, 'POST', '/x-news', {
      key: t.rootKey,
      body: { title: 'Maintenance', content: 'Sunday 02:00' },
    })
    expect(r.status, r.text).toBe(200)
    expect(r.body).toEqual({
      success: true,
      news: {
        id: expect.any(Number),
        title: 'Maintenance',
        content: 'Sunday 02:00',
        target: null,
        created_at: new Date(now).toISOString(),
        expires_at: new Date(now + 7 * DAY_MS).toISOString(),
      },
    })
    expect((await opRows(t, 'add_news'))[0]).toMatchObject({ operator_id: 1, target_id: null })
  })

  test('targeted news by an ancestor: by name, ID or DNA group; 32 days by default; days overrides', async () => {
    const now = t.clock.now()
    const byName = await call(t, 'POST', '/x-news/amyyy', {
      key: alice.key,
      body: { title: 'to amy', content: 'hi' },
    })
    expect(byName.status, byName.text).toBe(200)
    expect(byName.body.news.target).toBe(String(amy.account.id))
    expect(byName.body.news.expires_at).toBe(new Date(now + 32 * DAY_MS).toISOString())
    const byId = await call(t, 'POST', `/x-news/${ann.account.id}`, {
      key: alice.key,
      body: { title: 'to ann', content: 'hi', days: 3 },
    })
    expect(byId.body.news.expires_at).toBe(new Date(now + 3 * DAY_MS).toISOString())
    const group = await call(t, 'POST', `/x-news/${alice.account.dna}`, {
      key: alice.key,
      body: { title: 'to my customers', content: 'hi' },
    })
    expect(group.status, group.text).toBe(200)
    expect(group.body.news.target).toBe(alice.account.dna)
    const root = await call(t, 'POST', '/x-news/bobbb', {
      key: t.rootKey,
      body: { title: 'to bob', content: 'hi' },
    })
    expect(root.status, root.text).toBe(200)
    expect((await opRows(t, 'add_news'))[0]).toMatchObject({ operator_id: 1, target_id: bob.account.id })
  })

  test('outside the subtree is 404, system news by non-root 403, nothing stored', async () => {
    const before = await newsCount()
    const body = { title: 'x', content: 'y' }
    for (const target of [
      'bobbb',
      String(bob.account.id),
      bob.account.dna,
      '1',
      '.1.',
      'nobody',
      'bobbb@example.com',
    ]) {
      const r = await call(t, 'POST', `/x-news/${encodeURIComponent(target)}`, {
        key: alice.key,
        body,
      })
      expect(r.status, `${target}: ${r.text}`).toBe(404)
    }
    const up = await call(t, 'POST', `/x-news/alice`, { key: amy.key, body })
    expect(up.status, up.text).toBe(404)
    const sys = await call(t, 'POST', '/x-news', { key: alice.key, body })
    expect(sys.status, sys.text).toBe(403)
    expect((await call(t, 'POST', '/x-news', { key: generateKey(), body })).status).toBe(401)
    expect(await newsCount()).toBe(before)
  })

  test('bad bodies are 400 naming the field', async () => {
    const before = await newsCount()
    const cases: Array<[unknown, string]> = [
      [{ content: 'y' }, 'title'],
      [{ title: 'x', content: '' }, 'content'],
      [{ title: '   ', content: 'y' }, 'title'],
      [{ title: 'x', content: 'y', days: 0 }, 'days'],
      [{ title: 'x', content: 'y', days: 366 }, 'days'],
      [{ title: 'x', content: 'y', days: 1.5 }, 'days'],
    ]
    for (const [body, field] of cases) {
      const r = await call(t, 'POST', '/x-news', { key: t.rootKey, body })
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.message, r.text).toContain(field)
    }
    const filter = await call(t, 'POST', '/x-news/L1', {
      key: t.rootKey,
      body: { title: 'x', content: 'y' },
    })
    expect(filter.status, filter.text).toBe(400)
    expect(await newsCount()).toBe(before)
  })
})

describe('GET /dashboard/x-user-news', () => {
  test('system news and items aimed at the caller, its name or a DNA group holding it', async () => {
    const a = await read(amy.key)
    expect(a.system).toEqual(['Maintenance'])
    expect(a.user.sort()).toEqual(['to amy', 'to my customers'])
    expect(a.body.user_news[0]).toEqual({
      id: expect.any(Number),
      title: expect.any(String),
      content: 'hi',
      target: expect.any(String),
      created_at: expect.any(String),
      expires_at: expect.any(String),
    })
    expect((await read(ann.key)).user.sort()).toEqual(['to ann', 'to my customers'])
    expect((await read(bob.key)).user).toEqual(['to bob'])
    expect((await read(alice.key)).user).toEqual(['to my customers'])
    expect((await read(t.rootKey)).user).toEqual([])
    expect((await call(t, 'GET', '/dashboard/x-user-news', { key: generateKey() })).status).toBe(
      401,
    )
  })

  test('expired items are not shown', async () => {
    t.clock.advance(4 * DAY_MS)
    expect((await read(ann.key)).user).toEqual(['to my customers'])
    t.clock.advance(4 * DAY_MS)
    expect((await read(amy.key)).system).toEqual([])
    expect((await read(amy.key)).user.sort()).toEqual(['to amy', 'to my customers'])
    t.clock.advance(25 * DAY_MS)
    expect((await read(amy.key)).user).toEqual([])
  })
})

describe('DELETE /x-news', () => {
  test('an ancestor deletes the news of a target in its subtree, logged; others get 404', async () => {
    await call(t, 'POST', '/x-news/annnn', { key: alice.key, body: { title: 'one', content: 'c' } })
    const two = await call(t, 'POST', '/x-news/annnn', {
      key: amy.key,
      body: { title: 'two', content: 'c' },
    })
    const outsider = await call(t, 'DELETE', '/x-news/annnn', { key: bob.key })
    expect(outsider.status, outsider.text).toBe(404)
    const self = await call(t, 'DELETE', '/x-news/amyyy', { key: ann.key })
    expect(self.status, self.text).toBe(404)
    const one = await call(t, 'DELETE', `/x-news/annnn?id=${two.body.news.id}`, { key: amy.key })
    expect(one.body).toEqual({ success: true, deleted: 1 })
    expect((await read(ann.key)).user).toEqual(['one'])
    const missing = await call(t, 'DELETE', `/x-news/annnn?id=${two.body.news.id}`, {
      key: amy.key,
    })
    expect(missing.status, missing.text).toBe(404)
    // 'one' and the expired 'to ann' (expired items stay stored until deleted).
    const all = await call(t, 'DELETE', '/x-news/annnn', { key: alice.key })
    expect(all.body).toEqual({ success: true, deleted: 2 })
    expect((await opRows(t, 'delete_news'))[0]).toMatchObject({
      operator_id: alice.account.id,
      target_id: ann.account.id,
    })
  })

  test('system news: root only', async () => {
    await call(t, 'POST', '/x-news', { key: t.rootKey, body: { title: 'sys', content: 'c' } })
    expect((await call(t, 'DELETE', '/x-news', { key: alice.key })).status).toBe(403)
    expect((await read(amy.key)).system).toEqual(['sys'])
    const r = await call(t, 'DELETE', '/x-news', { key: t.rootKey })
    expect(r.body.deleted).toBeGreaterThanOrEqual(1)
    expect((await read(amy.key)).system).toEqual([])
  })
})

test('groupsOf lists every DNA group holding an account', () => {
  expect(groupsOf('.1.42.57.')).toEqual(['.1.', '.1.42.', '.1.42.57.'])
  expect(groupsOf('.1.')).toEqual(['.1.'])
})
