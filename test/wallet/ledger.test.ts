// The hot-path ledger: balances warmed once then served from memory, pending charges, the flush
// that draws from cards with debt allowed and writes one ledger row per inserted usage row, root
// never charged, requeue after a failed flush.
import { openTestStore } from '../helpers/engine'
import { describe, expect, test } from 'bun:test'
import { baseAccount } from '../../src/accounts/bootstrap'
import { createAccountsRepo } from '../../src/accounts/repo'
import { createLedger } from '../../src/wallet/ledger'
import { createCardsRepo } from '../../src/wallet/repo'
import { createFakeClock } from '../../src/shared/clock'
import { createMemoryLogger } from '../../src/shared/log'

const DAY = 86_400_000

async function setup() {
  const store = await openTestStore()
  const clock = createFakeClock()
  const accounts = createAccountsRepo(store.sql)
  const repo = createCardsRepo(store.sql)
  const now = clock.now()
  const mk = (name: string, id?: number) =>
    accounts.insert(
      {
        ...baseAccount(now),
        id,
        name,
        email: `${name}@x.io`,
        alias: name,
        keyHash: name,
        keyTail: name,
        parentId: id === 1 ? null : 1,
      },
      id === 1 ? '.' : '.1.',
    )
  await mk('root', 1)
  const a = await mk('alice')
  const card = async (amount: number, days: number) => {
    await repo.addCard(a.id, amount, now, now + days * DAY, null)
    await repo.addLedger(a.id, amount, 'recharge', null, now)
  }
  const ledger = createLedger({ load: (id) => repo.cardsOf(id), clock, log: createMemoryLogger() })
  const flush = (inserted: Set<string> | null = null) =>
    store.sql.tx((tx) => ledger.write(tx, ledger.drain(), { inserted }))
  const usageRows = async () =>
    (await store.sql.get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM ledger WHERE account_id = ? AND reason = 'usage'",
      [a.id],
    ))!.n
  const warm = async () => {
    const w = await ledger.warm(a.id)
    if (w) await w
  }
  return { store, clock, accounts, repo, ledger, a, card, flush, usageRows, warm }
}

describe('ledger', () => {
  test('balance = cards − pending; flush draws from the card expiring first, one row per call', async () => {
    const { ledger, a, card, flush, repo, warm } = await setup()
    await card(5_000, 30)
    await card(10_000, 300)
    expect(ledger.warm(a.id), 'cards not read yet').toBeInstanceOf(Promise)
    await warm()
    expect(ledger.warm(a.id), 'warm: nothing to wait for').toBeUndefined()
    expect(ledger.balanceOf(a.id)).toBe(15_000)
    ledger.charge(a.id, 3_000, 'req_1')
    ledger.charge(a.id, 4_000, 'req_2')
    expect(ledger.balanceOf(a.id)).toBe(8_000)
    expect(ledger.pending()).toBe(2)
    await flush()
    expect(ledger.pending()).toBe(0)
    expect(ledger.balanceOf(a.id)).toBe(8_000)
    const cards = (await repo.cardsOf(a.id)).map((c) => c.balanceNano)
    expect(cards).toEqual([0, 8_000])
    expect(ledger.balanceOf(1)).toBe(Number.MAX_SAFE_INTEGER)
    expect(await ledger.warm(1), 'root needs no cards').toBeUndefined()
  })

  test('before warm() a balance counts nothing it has not read (never more than it has)', async () => {
    const { ledger, a, card } = await setup()
    await card(10_000, 30)
    expect(ledger.balanceOf(a.id)).toBe(0)
    ledger.charge(a.id, 100, 'req_cold')
    expect(ledger.balanceOf(a.id)).toBe(-100)
  })

  test('a failed flush is requeued: nothing lost, balance unchanged; the retry writes it once', async () => {
    const { ledger, a, card, usageRows, store, flush, warm } = await setup()
    await card(10_000, 10)
    await warm()
    ledger.charge(a.id, 1_000, 'req_x')
    const rows = ledger.drain()
    await expect(
      store.sql.tx(async (tx) => {
        await ledger.write(tx, rows, { inserted: null })
        throw new Error('disk full')
      }),
    ).rejects.toThrow('disk full')
    ledger.requeue!(rows)
    await warm()
    expect(ledger.balanceOf(a.id)).toBe(9_000)
    expect(await usageRows()).toBe(0)
    await flush()
    expect(await usageRows()).toBe(1)
    expect(ledger.balanceOf(a.id)).toBe(9_000)
  })

  test('only calls whose usage row the flush inserted are charged (a retried batch, none twice)', async () => {
    const { ledger, a, card, usageRows, flush, warm } = await setup()
    await card(10_000, 10)
    await warm()
    ledger.charge(a.id, 1_000, 'req_new')
    ledger.charge(a.id, 2_000, 'req_seen')
    await flush(new Set(['req_new']))
    expect(await usageRows()).toBe(1)
    expect(ledger.pending()).toBe(0)
    // The duplicate's queued money left the queue without touching the cards.
    expect(ledger.balanceOf(a.id)).toBe(9_000)
  })

  test('forget() re-reads cards after an admin change; queued charges survive it', async () => {
    const { ledger, a, card, repo, clock, warm } = await setup()
    await card(10_000, 10)
    await warm()
    ledger.charge(a.id, 500, 'req_q')
    expect(ledger.balanceOf(a.id)).toBe(9_500)
    await repo.addCard(a.id, 4_000, clock.now(), clock.now() + DAY, 'topup')
    expect(ledger.balanceOf(a.id)).toBe(9_500)
    ledger.forget(a.id)
    await warm()
    expect(ledger.balanceOf(a.id)).toBe(13_500)
  })

  test('charges of a deleted account are dropped at flush without failing the transaction', async () => {
    const { ledger, a, card, flush, store, warm } = await setup()
    await card(10_000, 10)
    await warm()
    ledger.charge(a.id, 500, 'req_gone')
    await store.sql.run('DELETE FROM accounts WHERE id = ?', [a.id])
    await flush()
    expect(ledger.pending()).toBe(0)
  })
})

describe('the flush writes charged cards in sets', () => {
  test('70 accounts charged in one flush: every card moved, ledger rows match, books balanced', async () => {
    const store = await openTestStore()
    const clock = createFakeClock()
    const accounts = createAccountsRepo(store.sql)
    const repo = createCardsRepo(store.sql)
    const now = clock.now()
    const base = { ...baseAccount(now), parentId: 1 }
    await accounts.insert({ ...baseAccount(now), id: 1, name: 'root', email: 'r@x.io', alias: 'r', keyHash: 'r', keyTail: 'r', parentId: null }, '.')
    const ids: number[] = []
    for (let i = 0; i < 70; i++) {
      const a = await accounts.insert({ ...base, name: `u${i}`, email: `u${i}@x.io`, alias: `u${i}`, keyHash: `u${i}`, keyTail: `u${i}` }, '.1.')
      // Two cards each: the charge draws from the one expiring first, then the other.
      await repo.addCard(a.id, 1_000, now, now + DAY, null)
      await repo.addCard(a.id, 5_000, now, now + 30 * DAY, null)
      await repo.addLedger(a.id, 6_000, 'recharge', null, now)
      ids.push(a.id)
    }
    const ledger = createLedger({ load: (id) => repo.cardsOf(id), clock, log: createMemoryLogger() })
    ids.forEach((id, i) => ledger.charge(id, 1_500 + i, `req-${i}`))
    await store.sql.tx((tx) => ledger.write(tx, ledger.drain(), { inserted: null }))
    for (const [i, id] of ids.entries()) {
      const cards = await repo.cardsOf(id)
      expect(cards.map((c) => c.balanceNano)).toEqual([0, 5_000 - (500 + i)])
    }
    expect(await repo.invariantViolations()).toEqual([])
    await store.close()
  })

  test('a charged card that is not there throws (a stale read never slips through)', async () => {
    const { store, repo, a, card } = await setup()
    await card(1_000, 10)
    const [c] = await repo.cardsOf(a.id)
    const gone = { ...c!, id: 999_999 }
    const change = { before: gone, after: { ...gone, balanceNano: 700 }, deltaNano: -300 }
    await expect(store.sql.tx((tx) => createCardsRepo(tx).persistMany([{ accountId: a.id, changes: [change] }]))).rejects.toThrow(
      /1 of the cards charged vanished/,
    )
    // Another account's card is not this account's either.
    const other = { before: c!, after: { ...c!, balanceNano: 700 }, deltaNano: -300 }
    await expect(store.sql.tx((tx) => createCardsRepo(tx).persistMany([{ accountId: 1, changes: [other] }]))).rejects.toThrow(/vanished/)
    expect((await repo.cardsOf(a.id)).map((x) => x.balanceNano)).toEqual([1_000])
    await store.close()
  })
})
