// SQL for an account's card rows and its ledger rows: read the cards, persist the changes that
// cards.ts computed, append the matching ledger row. Runs inside the caller's transaction.
import type { Database } from 'bun:sqlite'
import { chunked, insertAll } from '../db/chunked'
import type { Card, CardChange } from './cards'

/** One usage ledger row: the charge of one call. */
export type LedgerCharge = { costNano: number; requestId: string; atMs: number }

type CardRow = {
  id: number
  amount_nano: number
  balance_nano: number
  granted_at: number
  expires_at: number
  reference: string | null
}

/** Why money moved, as written in `ledger.reason`. */
export type LedgerReason =
  | 'recharge' // a card granted by an ancestor (payer's 'fund' row, if any, is the other side)
  | 'fund' // paid from the payer's cards for a descendant's card
  | 'deduct' // taken from the target by an ancestor
  | 'deduct_refund' // the deducting ancestor's card
  | 'rerate' // the cards rescaled by a change of Rates
  | 'delete' // the closing row of a deleted account: its cards' whole total leaves
  | 'delete_refund' // the parent's card from a deleted child

function toCard(r: CardRow): Card {
  const c: Card = {
    id: r.id,
    amountNano: r.amount_nano,
    balanceNano: r.balance_nano,
    grantedAtMs: r.granted_at,
    expiresAtMs: r.expires_at,
  }
  if (r.reference !== null) c.reference = r.reference
  return c
}

export type CardsRepo = ReturnType<typeof createCardsRepo>

export function createCardsRepo(db: Database) {
  const list = db.prepare('SELECT * FROM cards WHERE account_id = ? ORDER BY expires_at, id')
  // One statement for a whole page of accounts (ids as a JSON array; PostgreSQL: = ANY($1)).
  const listMany = db.prepare(
    `SELECT * FROM cards WHERE account_id IN (SELECT value FROM json_each(?))
     ORDER BY account_id, expires_at, id`,
  )
  const insert = db.prepare(
    `INSERT INTO cards (account_id, amount_nano, balance_nano, granted_at, expires_at, reference)
     VALUES (?, ?, ?, ?, ?, ?)`,
  )
  const update = db.prepare(
    `UPDATE cards
     SET amount_nano = ?, balance_nano = ?, granted_at = ?, expires_at = ?, reference = ?
     WHERE id = ? AND account_id = ?`,
  )
  const remove = db.prepare('DELETE FROM cards WHERE id = ? AND account_id = ?')
  // The account's Rates go with the row, so a movement's real value can be checked later (v7).
  const ledger = db.prepare(
    `INSERT INTO ledger (account_id, delta_nano, reason, ref, created_at, rates)
     VALUES (?1, ?2, ?3, ?4, ?5, (SELECT rates FROM accounts WHERE id = ?1))`,
  )
  // Rows of one operation that touched two accounts or more (re-rating moves no value).
  const movements = db.prepare(
    `SELECT ref, account_id, delta_nano, rates FROM ledger
     WHERE rates IS NOT NULL AND reason <> 'rerate' AND ref IN (
       SELECT ref FROM ledger WHERE rates IS NOT NULL AND reason <> 'rerate'
       GROUP BY ref HAVING COUNT(DISTINCT account_id) > 1)
     ORDER BY ref`,
  )

  const exists = db.prepare('SELECT 1 AS ok FROM accounts WHERE id = ?')
  const plainLedger = db.prepare(
    'INSERT INTO ledger (account_id, delta_nano, reason, ref, created_at) VALUES (?, ?, ?, ?, ?)',
  )
  const invariant = db.prepare(`
    SELECT a.id AS id, a.name AS name,
      COALESCE((SELECT SUM(balance_nano) FROM cards c WHERE c.account_id = a.id), 0) AS cards_nano,
      COALESCE((SELECT SUM(delta_nano) FROM ledger l WHERE l.account_id = a.id), 0) AS ledger_nano
    FROM accounts a`)
  // Usage rows carry no Rates: one account, no counterpart, not read by the conservation check.
  const usageRows = chunked(
    db,
    'INSERT INTO ledger (account_id, delta_nano, reason, ref, created_at) VALUES ',
    "(?, ?, 'usage', ?, ?)",
  )

  /** Writes card changes; a change to a row that is not there throws (no stale read slips by). */
  const persist = (accountId: number, changes: readonly CardChange[]): number => {
    let delta = 0
    for (const ch of changes) {
      delta += ch.deltaNano
      if (ch.before && ch.after) {
        const r = update.run(...rowOf(ch.after), ch.before.id ?? -1, accountId)
        if (r.changes !== 1) throw new Error(`card ${ch.before.id} of account ${accountId} vanished`)
      } else if (ch.before) {
        const r = remove.run(ch.before.id ?? -1, accountId)
        if (r.changes !== 1) throw new Error(`card ${ch.before.id} of account ${accountId} vanished`)
      } else if (ch.after) {
        insert.run(accountId, ...rowOf(ch.after))
      }
    }
    return delta
  }

  const rowOf = (c: Card) =>
    [c.amountNano, c.balanceNano, c.grantedAtMs, c.expiresAtMs, c.reference ?? null] as const

  return {
    /** The account's cards, expiring first first (expired ones too: they hold the ledger's sum). */
    cardsOf(accountId: number): Card[] {
      return (list.all(accountId) as CardRow[]).map(toCard)
    },
    /** The cards of many accounts at once, by account ID (accounts without cards are absent). */
    cardsOfMany(accountIds: readonly number[]): Map<number, Card[]> {
      const out = new Map<number, Card[]>()
      for (const r of listMany.all(JSON.stringify(accountIds)) as Array<
        CardRow & { account_id: number }
      >) {
        const cards = out.get(r.account_id)
        if (cards) cards.push(toCard(r))
        else out.set(r.account_id, [toCard(r)])
      }
      return out
    },
    /**
     * Persists the card changes of one cards.ts call and the one ledger row that balances them.
     * A change to a row that is not there throws, so a stale read can never slip through.
     */
    apply(
      accountId: number,
      changes: readonly CardChange[],
      reason: LedgerReason,
      ref: string,
      atMs: number,
    ): number {
      const delta = persist(accountId, changes)
      if (delta !== 0) ledger.run(accountId, delta, reason, ref, atMs)
      return delta
    },
    /**
     * Operations between accounts whose payees received more real value (delta / Rates) than the
     * payers gave: money created by a conversion. Empty when the books conserve value.
     */
    conservationViolations(): Array<{ ref: string; paidNano: number; receivedNano: number }> {
      const sums = new Map<string, { paid: number; received: number }>()
      for (const r of movements.all() as Array<{ ref: string; delta_nano: number; rates: number }>) {
        const s = sums.get(r.ref) ?? { paid: 0, received: 0 }
        if (r.delta_nano < 0) s.paid -= r.delta_nano / r.rates
        else s.received += r.delta_nano / r.rates
        sums.set(r.ref, s)
      }
      const out: Array<{ ref: string; paidNano: number; receivedNano: number }> = []
      // 1e-6 nano of float noise per operation is not money.
      for (const [ref, s] of sums) {
        if (s.received > s.paid + 1e-6) out.push({ ref, paidNano: s.paid, receivedNano: s.received })
      }
      return out
    },
    /**
     * The usage charges of one account from one flush: the card changes that pay them and one
     * `usage` ledger row per charge (delta = −cost), in order.
     */
    applyUsage(accountId: number, changes: readonly CardChange[], charges: readonly LedgerCharge[]) {
      persist(accountId, changes)
      insertAll(usageRows, charges, (a, c) => {
        a.push(accountId, -c.costNano, c.requestId, c.atMs)
      })
    },
    accountExists: (accountId: number) => exists.get(accountId) !== null,
    /** A card as it is first granted (bootstrap's INIT_USERS credit; tests), without its row. */
    addCard(
      accountId: number,
      amountNano: number,
      grantedAtMs: number,
      expiresAtMs: number,
      reference: string | null,
    ): number {
      const r = insert.run(accountId, amountNano, amountNano, grantedAtMs, expiresAtMs, reference)
      return Number(r.lastInsertRowid)
    },
    /** The ledger row of addCard (no Rates: bootstrap grants come from root). */
    addLedger(
      accountId: number,
      deltaNano: number,
      reason: string,
      ref: string | null,
      atMs: number,
    ): void {
      plainLedger.run(accountId, deltaNano, reason, ref, atMs)
    },
    /** Accounts whose cards' total differs from the sum of their ledger rows (must be none). */
    invariantViolations(): Array<{ id: number; name: string; cardsNano: number; ledgerNano: number }> {
      const rows = invariant.all() as Array<{
        id: number
        name: string
        cards_nano: number
        ledger_nano: number
      }>
      return rows
        .filter((r) => r.cards_nano !== r.ledger_nano)
        .map((r) => ({ id: r.id, name: r.name, cardsNano: r.cards_nano, ledgerNano: r.ledger_nano }))
    },
    /** A ledger row with no card change behind it: only the closing row of a deleted account. */
    ledger(accountId: number, deltaNano: number, reason: LedgerReason, ref: string, atMs: number) {
      if (deltaNano !== 0) ledger.run(accountId, deltaNano, reason, ref, atMs)
    },
  }
}
