// SQL for an account's card rows and its ledger rows: read the cards, persist the changes that
// cards.ts computed, append the matching ledger row. Runs inside the caller's transaction; on
// PostgreSQL the cards a transaction is about to change are read FOR UPDATE, so two transactions
// never both change one account's cards from the same read.
import { insertAll } from '../db/chunked'
import { dialect, idList, inIdList, type Sql } from '../db/sql'
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

const INSERT_CARD = `INSERT INTO cards (account_id, amount_nano, balance_nano, granted_at, expires_at, reference)
  VALUES (?, ?, ?, ?, ?, ?) RETURNING id`
const UPDATE_CARD = `UPDATE cards SET amount_nano = ?, balance_nano = ?, granted_at = ?, expires_at = ?, reference = ?
  WHERE id = ? AND account_id = ?`
// Many cards' new state in one statement (the flush's usage charges), matched by id and account.
const UPDATE_MANY_HEAD = `UPDATE cards SET amount_nano = v.column3, balance_nano = v.column4,
  granted_at = v.column5, expires_at = v.column6, reference = v.column7 FROM (VALUES `
const UPDATE_MANY_ROW =
  '(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT))'
const UPDATE_MANY_TAIL = ') AS v WHERE cards.id = v.column1 AND cards.account_id = v.column2 RETURNING id'
// The account's Rates go with the row, so a movement's real value can be checked later (v7).
const INSERT_LEDGER = `INSERT INTO ledger (account_id, delta_nano, reason, ref, created_at, rates)
  VALUES (?1, ?2, ?3, ?4, ?5, (SELECT rates FROM accounts WHERE id = ?1))`
// Rows of one operation that touched two accounts or more (re-rating moves no value).
const MOVEMENTS = `SELECT ref, account_id, delta_nano, rates FROM ledger
  WHERE rates IS NOT NULL AND reason <> 'rerate' AND ref IN (
    SELECT ref FROM ledger WHERE rates IS NOT NULL AND reason <> 'rerate'
    GROUP BY ref HAVING COUNT(DISTINCT account_id) > 1)
  ORDER BY ref`
const INVARIANT = `SELECT a.id AS id, a.name AS name,
    CAST(COALESCE((SELECT SUM(balance_nano) FROM cards c WHERE c.account_id = a.id), 0) AS BIGINT) AS cards_nano,
    CAST(COALESCE((SELECT SUM(delta_nano) FROM ledger l WHERE l.account_id = a.id), 0) AS BIGINT) AS ledger_nano
  FROM accounts a`
// Usage rows carry no Rates: one account, no counterpart, not read by the conservation check.
const USAGE_HEAD = 'INSERT INTO ledger (account_id, delta_nano, reason, ref, created_at) VALUES '
const USAGE_ROW = "(?, ?, 'usage', ?, ?)"

/**
 * `onMove`: told each balance change this repository writes (ledger rows of admin moves; usage
 * rows excluded), so several nodes can move the shared money counters once the write commits.
 */
export function createCardsRepo(sql: Sql, onMove?: (accountId: number, deltaNano: number) => void) {
  const rowOf = (c: Card) => [c.amountNano, c.balanceNano, c.grantedAtMs, c.expiresAtMs, c.reference ?? null]

  /** Writes card changes; a change to a row that is not there throws (no stale read slips by). */
  const persist = async (accountId: number, changes: readonly CardChange[]): Promise<number> => {
    let delta = 0
    for (const ch of changes) {
      delta += ch.deltaNano
      if (ch.before && ch.after) {
        const n = await sql.run(UPDATE_CARD, [...rowOf(ch.after), ch.before.id ?? -1, accountId])
        if (n !== 1) throw new Error(`card ${ch.before.id} of account ${accountId} vanished`)
      } else if (ch.before) {
        const n = await sql.run('DELETE FROM cards WHERE id = ? AND account_id = ?', [ch.before.id ?? -1, accountId])
        if (n !== 1) throw new Error(`card ${ch.before.id} of account ${accountId} vanished`)
      } else if (ch.after) {
        await sql.run(INSERT_CARD, [accountId, ...rowOf(ch.after)])
      }
    }
    return delta
  }

  const ledgerRow = async (accountId: number, deltaNano: number, reason: string, ref: string, atMs: number) => {
    await sql.run(INSERT_LEDGER, [accountId, deltaNano, reason, ref, atMs])
    onMove?.(accountId, deltaNano)
  }

  return {
    /**
     * The account's cards, expiring first first (expired ones too: they hold the ledger's sum).
     * `forUpdate`: the transaction is about to change them (PostgreSQL locks the rows).
     */
    async cardsOf(accountId: number, forUpdate = false): Promise<Card[]> {
      const lock = forUpdate ? dialect(sql, { sqlite: '', postgres: ' FOR UPDATE' }) : ''
      const rows = await sql.all<CardRow>(
        `SELECT * FROM cards WHERE account_id = ? ORDER BY expires_at, id${lock}`,
        [accountId],
      )
      return rows.map(toCard)
    },
    /**
     * Locks the cards of the given accounts in id order for the rest of the transaction, so two
     * moves over the same accounts wait for each other instead of deadlocking (PostgreSQL; a
     * SQLite transaction holds the whole database already).
     */
    async lock(accountIds: readonly number[]): Promise<void> {
      if (sql.engine !== 'postgres') return
      const ids = [...new Set(accountIds)].sort((a, b) => a - b)
      for (const id of ids) await sql.all('SELECT id FROM cards WHERE account_id = ? ORDER BY id FOR UPDATE', [id])
    },
    /**
     * The cards of many accounts at once, by account ID (accounts without cards are absent).
     * `forUpdate`: locked for the transaction (PostgreSQL), in account id order.
     */
    async cardsOfMany(accountIds: readonly number[], forUpdate = false): Promise<Map<number, Card[]>> {
      const out = new Map<number, Card[]>()
      if (accountIds.length === 0) return out
      const lock = forUpdate ? dialect(sql, { sqlite: '', postgres: ' FOR UPDATE' }) : ''
      const rows = await sql.all<CardRow & { account_id: number }>(
        `SELECT * FROM cards WHERE ${inIdList(sql, 'account_id')} ORDER BY account_id, expires_at, id${lock}`,
        [idList(sql, accountIds)],
      )
      for (const r of rows) {
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
    async apply(
      accountId: number,
      changes: readonly CardChange[],
      reason: LedgerReason,
      ref: string,
      atMs: number,
    ): Promise<number> {
      const delta = await persist(accountId, changes)
      if (delta !== 0) await ledgerRow(accountId, delta, reason, ref, atMs)
      return delta
    },
    /**
     * Operations between accounts whose payees received more real value (delta / Rates) than the
     * payers gave: money created by a conversion. Empty when the books conserve value.
     */
    async conservationViolations(): Promise<Array<{ ref: string; paidNano: number; receivedNano: number }>> {
      const sums = new Map<string, { paid: number; received: number }>()
      for (const r of await sql.all<{ ref: string; delta_nano: number; rates: number }>(MOVEMENTS)) {
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
    /** Which of the given accounts exist (one statement). */
    async existing(accountIds: readonly number[]): Promise<Set<number>> {
      if (accountIds.length === 0) return new Set()
      const rows = await sql.all<{ id: number }>(`SELECT id FROM accounts WHERE ${inIdList(sql, 'id')}`, [
        idList(sql, accountIds),
      ])
      return new Set(rows.map((r) => r.id))
    },
    /**
     * The card changes of many accounts' usage charges (their ledger rows come with usageRows):
     * changed cards 64 to a statement, any other change one by one. A card that is not there
     * throws, as in persist.
     */
    async persistMany(all: ReadonlyArray<{ accountId: number; changes: readonly CardChange[] }>): Promise<void> {
      const updates: Array<{ id: number; accountId: number; card: Card }> = []
      for (const { accountId, changes } of all) {
        const others: CardChange[] = []
        for (const ch of changes) {
          if (ch.before && ch.after) updates.push({ id: ch.before.id ?? -1, accountId, card: ch.after })
          else others.push(ch)
        }
        if (others.length) await persist(accountId, others)
      }
      let updated = 0
      await insertAll(
        sql,
        UPDATE_MANY_HEAD,
        UPDATE_MANY_ROW,
        UPDATE_MANY_TAIL,
        updates,
        (a, u) => void a.push(u.id, u.accountId, ...rowOf(u.card)),
        () => void updated++,
      )
      if (updated !== updates.length) throw new Error(`${updates.length - updated} of the cards charged vanished`)
    },
    /** `usage` ledger rows (delta = −cost) of many accounts, in order, 64 rows a statement. */
    async usageRows(rows: ReadonlyArray<{ accountId: number; charge: LedgerCharge }>): Promise<void> {
      await insertAll(sql, USAGE_HEAD, USAGE_ROW, '', rows, (a, r) => {
        a.push(r.accountId, -r.charge.costNano, r.charge.requestId, r.charge.atMs)
      })
    },
    /** A card as it is first granted (bootstrap's INIT_USERS credit; tests), without its row. */
    async addCard(
      accountId: number,
      amountNano: number,
      grantedAtMs: number,
      expiresAtMs: number,
      reference: string | null,
    ): Promise<number> {
      const r = await sql.get<{ id: number }>(INSERT_CARD, [accountId, amountNano, amountNano, grantedAtMs, expiresAtMs, reference])
      return r!.id
    },
    /** The ledger row of addCard (no Rates: bootstrap grants come from root). */
    async addLedger(accountId: number, deltaNano: number, reason: string, ref: string | null, atMs: number): Promise<void> {
      await sql.run('INSERT INTO ledger (account_id, delta_nano, reason, ref, created_at) VALUES (?, ?, ?, ?, ?)', [
        accountId,
        deltaNano,
        reason,
        ref,
        atMs,
      ])
      onMove?.(accountId, deltaNano)
    },
    /** Accounts whose cards' total differs from the sum of their ledger rows (must be none). */
    async invariantViolations(): Promise<Array<{ id: number; name: string; cardsNano: number; ledgerNano: number }>> {
      const rows = await sql.all<{ id: number; name: string; cards_nano: number; ledger_nano: number }>(INVARIANT)
      return rows
        .filter((r) => r.cards_nano !== r.ledger_nano)
        .map((r) => ({ id: r.id, name: r.name, cardsNano: r.cards_nano, ledgerNano: r.ledger_nano }))
    },
    /** A ledger row with no card change behind it: only the closing row of a deleted account. */
    async ledger(accountId: number, deltaNano: number, reason: LedgerReason, ref: string, atMs: number) {
      if (deltaNano !== 0) await ledgerRow(accountId, deltaNano, reason, ref, atMs)
    },
  }
}
