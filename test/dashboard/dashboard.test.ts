import { afterAll, describe, expect, test } from 'bun:test'
import { generateKey, hashKey } from '../../src/shared/ids'
import { addAccount, addUsage, call, makeApp } from '../reports/fixtures'

const t = await makeApp() // 2026-01-15 12:00 UTC
afterAll(() => t.close())
const alice = await addAccount(t, null, {
  name: 'alice',
  creditUsd: 50,
  level: 2,
  rpm: 60,
  allowModels: ['gpt-*'],
})
const amy = await addAccount(t, alice.account, { name: 'amyyy', creditUsd: 5 })
const M = 1_000_000

// Charges the proxy still holds in memory reach the cards only when the write-behind runs.
let pendingNano = 0
t.deps.flusher.register({
  name: 'test-charges',
  pending: () => (pendingNano > 0 ? 1 : 0),
  drain: () => {
    const rows = [pendingNano]
    pendingNano = 0
    return rows
  },
  write: async (tx, rows: number[]) => {
    for (const n of rows)
      await tx.run('UPDATE cards SET balance_nano = balance_nano - ? WHERE account_id = ?', [n, alice.account.id])
  },
})

describe('GET /dashboard/x-user-status', () => {
  test('the §7.1 shape, with charges still in memory counted', async () => {
    pendingNano = 2_500 * M
    const r = await call(t, 'GET', '/dashboard/x-user-status', { key: alice.key })
    expect(r.status, r.text).toBe(200)
    expect(r.body).toEqual({
      object: 'user_status',
      id: alice.account.id,
      name: 'alice',
      email: 'alice@example.com',
      balance: 47.5,
      dna: alice.account.dna,
    })
  })

  test("root's balance is unlimited: null", async () => {
    const r = await call(t, 'GET', '/dashboard/x-user-status', { key: t.rootKey })
    expect(r.body).toMatchObject({
      object: 'user_status',
      id: 1,
      name: 'root',
      balance: null,
      dna: '.1.',
    })
  })

  test('expired cards stop counting', async () => {
    const now = t.clock.now()
    await t.deps.accounts.service.cards.addCard(amy.account.id, 3_000 * M, now, now + 86_400_000, 'short')
    expect((await call(t, 'GET', '/dashboard/x-user-status', { key: amy.key })).body.balance).toBe(
      8,
    )
    t.clock.advance(86_400_000)
    expect((await call(t, 'GET', '/dashboard/x-user-status', { key: amy.key })).body.balance).toBe(
      5,
    )
    t.clock.set(Date.UTC(2026, 0, 15, 12))
  })

  test('a wrong or missing key is 401', async () => {
    expect((await call(t, 'GET', '/dashboard/x-user-status', { key: generateKey() })).status).toBe(
      401,
    )
    expect((await call(t, 'GET', '/dashboard/x-user-info')).status).toBe(401)
  })
})

describe('GET /dashboard/x-user-info', () => {
  test("the caller's record: fields, cards, today's, this month's and lifetime usage", async () => {
    await addUsage(t, '2026-01-15', alice.account.id, 'gpt-4o', {
      requests: 2,
      prompt: 20,
      completion: 10,
      cached: 5,
      costNano: 2 * M,
    })
    await addUsage(t, '2026-01-15', alice.account.id, 'gpt-4o-mini', {
      requests: 1,
      prompt: 10,
      completion: 5,
      costNano: M,
    })
    await addUsage(t, '2026-01-03', alice.account.id, 'gpt-4o', {
      requests: 4,
      prompt: 40,
      completion: 20,
      costNano: 4 * M,
    })
    await addUsage(t, '2025-12-31', alice.account.id, 'gpt-4o', {
      requests: 8,
      prompt: 80,
      completion: 40,
      costNano: 8 * M,
    })
    await addUsage(t, '2026-01-15', amy.account.id, 'gpt-4o', { requests: 100, costNano: 100 * M })
    const r = await call(t, 'GET', '/dashboard/x-user-info', { key: alice.key })
    expect(r.status, r.text).toBe(200)
    const b = r.body
    expect(b).toMatchObject({
      object: 'user_info',
      ID: alice.account.id,
      Name: 'alice',
      Email: 'alice@example.com',
      DNA: alice.account.dna,
      ParentID: 1,
      Level: 2,
      RPM: 60,
      AllowModels: 'gpt-*',
      AllowIPs: '*',
      ModelMapper: null,
      Rates: 1,
      Child: 1,
      Balance: 47.5,
      CreditUsed: 0.015,
      Requests: 15,
      SecretKey: '***',
      PartialKey: alice.key.slice(-8),
    })
    expect(b.CreditBalance).toEqual([
      {
        amount: 50,
        balance: 47.5,
        granted_at: '2026-01-15T12:00:00.000Z',
        expires_at: '2027-01-15T12:00:00.000Z',
      },
    ])
    expect(b.Usage).toEqual({
      Today: {
        date: '2026-01-15',
        requests: 3,
        prompt_tokens: 30,
        completion_tokens: 15,
        cached_tokens: 5,
        cost: 0.003,
      },
      Month: {
        month: '2026-01',
        requests: 7,
        prompt_tokens: 70,
        completion_tokens: 35,
        cached_tokens: 5,
        cost: 0.007,
      },
    })
    expect(r.text).not.toContain(hashKey(alice.key))
    expect(r.text).not.toContain(alice.key)
  })

  test('a leaf sees only itself', async () => {
    const r = await call(t, 'GET', '/dashboard/x-user-info', { key: amy.key })
    expect(r.body).toMatchObject({ ID: amy.account.id, Child: 0, Requests: 100, CreditUsed: 0.1 })
    expect(r.body.Usage.Today.requests).toBe(100)
  })
})

test('a disabled ancestor disables the subtree on every dashboard and report route', async () => {
  const boss = await addAccount(t, null, { name: 'bossy' })
  const kid = await addAccount(t, boss.account, { name: 'kiddo' })
  expect((await call(t, 'GET', '/dashboard/x-user-status', { key: kid.key })).status).toBe(200)
  await t.deps.sql.run('UPDATE accounts SET status = 0 WHERE id = ?', [boss.account.id])
  t.deps.events.accountChanged({ id: boss.account.id, name: 'bossy', dna: boss.account.dna })
  for (const path of [
    '/dashboard/x-user-status',
    '/dashboard/x-user-info',
    '/dashboard/bill',
    '/x-bill',
  ]) {
    const r = await call(t, 'GET', path, { key: kid.key })
    expect(r.status, `${path} ${r.text}`).toBe(401)
    expect(r.body.error.code).toBe('account_disabled')
  }
  const news = await call(t, 'GET', '/dashboard/x-user-news', { key: kid.key })
  expect(news.status, news.text).toBe(401)
})
