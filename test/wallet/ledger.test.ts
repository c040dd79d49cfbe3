// The hot-path ledger: lazy balances, pending charges, the flush that draws from cards with debt
// allowed and writes one ledger row per call, root never charged, requeue after a failed flush.
import { describe, expect, test } from 'bun:test'
import { baseAccount } from '../../src/accounts/bootstrap'
import { createAccountsRepo } from '../../src/accounts/repo'
import { createLedger } from '../../src/wallet/ledger'
import { createCardsRepo } from '../../src/wallet/repo'
import { openMemoryStore } from '../../src/db/open'
import { createFakeClock } from '../../src/shared/clock'
import { createMemoryLogger } from '../../src/shared/log'

const DAY = 86_400_000

function setup() {
  const store = openMemoryStore()
  const clock = createFakeClock()
  const accounts = createAccountsRepo(store.db)
  const repo = createCardsRepo(store.db)
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
  mk('root', 1)
  const a = mk('alice')
  const card = (amount: number, days: number) => {
    accounts.addCard(a.id, amount, now, now + days * DAY, null)
    accounts.addLedger(a.id, amount, 'recharge', null, now)
  }
  const ledger = createLedger({ repo, clock, log: createMemoryLogger() })
  const flush = () => store.db.transaction(() => ledger.write(ledger.drain()))()
  const sum = (sql: string) => (store.db.prepare(sql).get(a.id) as { n: number }).n
  return { store, clock, accounts, repo, ledger, a, card, flush, sum }
}

describe('ledger', () => {
  test('balance = cards − pending; flush draws from the card expiring first, one row per call', () => {
    const { ledger, a, card, flush, sum, repo, clock } = setup()
    card(5_000, 30)
    card(10_000, 300)
    expect(ledger.balanceOf(a.id)).toBe(15_000)
    ledger.charge(a.id, 3_000, 'req_1')
    ledger.charge(a.id, 4_000, 'req_2')
    expect(ledger.balanceOf(a.id)).toBe(8_000)
    expect(ledger.pending()).toBe(2)
    flush()
    expect(ledger.pending()).toBe(0)
    expect(ledger.balanceOf(a.id)).toBe(8_000)
    const cards = repo.cardsOf(a.id).map((c) => c.balanceNano)
    expect(cards).toEqual([0, 8_000])
    expect(sum("SELECT COUNT(*) AS n FROM ledger WHERE account_id = ? AND reason = 'usage'")).toBe(
      2,
    )
    expect(sum('SELECT SUM(delta_nano) AS n FROM ledger WHERE account_id = ?')).toBe(
      sum('SELECT SUM(balance_nano) AS n FROM cards WHERE account_id = ?'),
    )
    // The first card expires: the cached balance follows the clock without a read.
    clock.advance(31 * DAY)
    expect(ledger.balanceOf(a.id)).toBe(8_000)
  })

  test('a charge beyond the balance goes into debt on the card expiring last (the call happened)', () => {
    const { ledger, a, card, flush, repo, sum } = setup()
    card(1_000, 10)
    card(2_000, 100)
    ledger.charge(a.id, 5_000, 'req_big')
    expect(ledger.balanceOf(a.id)).toBe(-2_000)
    flush()
    expect(repo.cardsOf(a.id).map((c) => c.balanceNano)).toEqual([0, -2_000])
    expect(ledger.balanceOf(a.id)).toBe(-2_000)
    expect(sum('SELECT SUM(delta_nano) AS n FROM ledger WHERE account_id = ?')).toBe(-2_000)
  })

  test('root is unlimited and never charged; zero costs write nothing', () => {
    const { ledger, a, card } = setup()
    card(1_000, 10)
    ledger.charge(1, 9_999, 'req_root')
    ledger.charge(a.id, 0, 'req_free')
    expect(ledger.pending()).toBe(0)
    expect(ledger.balanceOf(1)).toBe(Number.MAX_SAFE_INTEGER)
  })

  test('a failed flush is requeued: nothing lost, balance unchanged; the retry writes it once', () => {
    const { ledger, a, card, sum, store } = setup()
    card(10_000, 10)
    ledger.charge(a.id, 1_000, 'req_x')
    const rows = ledger.drain()
    expect(() =>
      store.db.transaction(() => {
        ledger.write(rows)
        throw new Error('disk full')
      })(),
    ).toThrow('disk full')
    ledger.requeue!(rows)
    expect(ledger.balanceOf(a.id)).toBe(9_000)
    expect(sum("SELECT COUNT(*) AS n FROM ledger WHERE account_id = ? AND reason = 'usage'")).toBe(
      0,
    )
    store.db.transaction(() => ledger.write(ledger.drain()))()
    expect(sum("SELECT COUNT(*) AS n FROM ledger WHERE account_id = ? AND reason = 'usage'")).toBe(
      1,
    )
    expect(ledger.balanceOf(a.id)).toBe(9_000)
  })

  test('forget() re-reads cards after an admin change; queued charges survive it', () => {
    const { ledger, a, card, accounts, clock } = setup()
    card(10_000, 10)
    ledger.charge(a.id, 500, 'req_q')
    expect(ledger.balanceOf(a.id)).toBe(9_500)
    accounts.addCard(a.id, 4_000, clock.now(), clock.now() + DAY, 'topup')
    expect(ledger.balanceOf(a.id)).toBe(9_500)
    ledger.forget(a.id)
    expect(ledger.balanceOf(a.id)).toBe(13_500)
  })

  test('charges of a deleted account are dropped at flush without failing the transaction', () => {
    const { ledger, a, card, flush, store } = setup()
    card(10_000, 10)
    ledger.charge(a.id, 500, 'req_gone')
    store.db.prepare('DELETE FROM accounts WHERE id = ?').run(a.id)
    expect(() => flush()).not.toThrow()
    expect(ledger.pending()).toBe(0)
  })
})
