// The hot-path balance: per account, the persisted card balance (read once from the store by
// warm(), then cached) minus charges not yet written. charge() only queues; as a FlushSource the
// ledger draws the queued charges from the account's cards in the flusher's transaction (debt
// allowed: the call already happened), one ledger row per call whose usage row was inserted in
// the same flush, accounts in id order. Root (id 1) is never charged.
import { balanceOf, spend, type Card, type CardChange } from './cards'
import type { FlushSource } from '../db/flusher'
import type { Clock } from '../shared/clock'
import type { Logger } from '../shared/log'
import { createCardsRepo } from './repo'

import { ROOT_ID } from '../shared/ids'

export type Charge = { accountId: number; costNano: number; requestId: string; atMs: number }

type Entry = {
  /** Cards as last read or written; null = read them again on the next balance query. */
  cards: Card[] | null
  /** Sum of live balances, valid until `validUntilMs` (the next expiry of a card with money). */
  liveNano: number
  validUntilMs: number
  /** Queued charges not yet written to SQLite. */
  pendingNano: number
  /** Counts this node's writes of the cards: a read older than the last write is not applied. */
  writes: number
  /** When `liveNano` was summed: cards expiring after it were live then. */
  summedAtMs: number
}

export type Ledger = FlushSource<Charge> & {
  /**
   * Spendable balance in the account's book units (nano); root's is unlimited. Synchronous:
   * the account's cards must have been read (`warm`); until then the balance is 0.
   */
  balanceOf(accountId: number): number
  /** Reads the account's cards unless they are cached: undefined when they are (no await). */
  warm(accountId: number): Promise<void> | undefined
  /** Queues the cost of a finished call; never refuses (the call has happened). */
  charge(accountId: number, costNano: number, requestId: string): void
  /** Forgets cached cards (after an admin change); queued charges stay. */
  forget(accountId: number): void
  /**
   * Several nodes: another node wrote these accounts' cards. Those cached here are read again in
   * one statement and replaced when they arrive (the old ones serve meanwhile); on failure they
   * are forgotten, to be read on next use.
   */
  reload(accountIds: readonly number[]): Promise<void>
  /** Charges of the account queued here and not yet written. */
  pendingOf(accountId: number): number
  /** Forgets every cached card set (a node that missed changes); queued charges stay. */
  forgetAll(): void
}

/** Tells `fn` of each card with money left that expired in (summedAtMs, nowMs]. */
function expired(
  accountId: number,
  e: { cards: Card[] | null; summedAtMs: number },
  nowMs: number,
  fn: (accountId: number, expiredNano: number, key: string) => void,
): void {
  for (const c of e.cards ?? []) {
    if (c.balanceNano <= 0 || c.expiresAtMs <= e.summedAtMs || c.expiresAtMs > nowMs) continue
    fn(accountId, c.balanceNano, `${accountId}:${c.grantedAtMs}:${c.expiresAtMs}`)
  }
}

/** The charges whose usage row was inserted, each request id once (the first, as stored). */
function insertedOnce(charges: readonly Charge[], inserted: ReadonlySet<string>): Charge[] {
  const seen = new Set<string>()
  return charges.filter((c) => {
    if (!inserted.has(c.requestId) || seen.has(c.requestId)) return false
    seen.add(c.requestId)
    return true
  })
}

export function createLedger(opts: {
  /** Reads an account's cards outside a transaction (warm). */
  load: (accountId: number) => Promise<Card[]>
  /**
   * Several nodes: a card with money left has expired since this node last summed the cards
   * (`key` names it, the same on every node). The shared money counter loses that money.
   */
  onExpired?: (accountId: number, expiredNano: number, key: string) => void
  /** Reads many accounts' cards in one statement (reload); absent accounts have none. */
  loadMany?: (accountIds: readonly number[]) => Promise<Map<number, Card[]>>
  clock: Clock
  log: Logger
  maxEntries?: number
}): Ledger {
  const { clock } = opts
  const loading = new Map<number, Promise<void>>()
  // Accounts whose queued total the last write took off (requeue puts it back for those only).
  const written = new Set<number>()
  const maxEntries = opts.maxEntries ?? 100_000
  const entries = new Map<number, Entry>()
  let queue: Charge[] = []

  const entryOf = (accountId: number): Entry => {
    let e = entries.get(accountId)
    if (!e) {
      if (entries.size >= maxEntries) evictIdle()
      e = { cards: null, liveNano: 0, validUntilMs: 0, pendingNano: 0, writes: 0, summedAtMs: 0 }
      entries.set(accountId, e)
    }
    return e
  }

  // Entries with nothing queued are only a cache: dropping them costs one read later.
  const evictIdle = () => {
    for (const [id, e] of entries) {
      if (e.pendingNano === 0) entries.delete(id)
      if (entries.size < maxEntries / 2) break
    }
  }

  const refresh = (e: Entry, cards: Card[], nowMs: number) => {
    e.cards = cards
    e.summedAtMs = nowMs
    e.liveNano = balanceOf(cards, nowMs)
    let next = Number.POSITIVE_INFINITY
    for (const c of cards)
      if (c.expiresAtMs > nowMs && c.balanceNano !== 0 && c.expiresAtMs < next) next = c.expiresAtMs
    e.validUntilMs = next
  }

  const forget = (accountId: number) => {
    const e = entries.get(accountId)
    if (!e) return
    if (e.pendingNano === 0) entries.delete(accountId)
    else e.cards = null
  }

  return {
    name: 'ledger',
    balanceOf(accountId) {
      if (accountId === ROOT_ID) return Number.MAX_SAFE_INTEGER
      const e = entryOf(accountId)
      if (e.cards === null) return 0 - e.pendingNano
      const nowMs = clock.now()
      if (nowMs >= e.validUntilMs) {
        if (opts.onExpired) expired(accountId, e, nowMs, opts.onExpired)
        refresh(e, e.cards, nowMs)
      }
      return e.liveNano - e.pendingNano
    },
    warm(accountId) {
      if (accountId === ROOT_ID || entries.get(accountId)?.cards) return undefined
      let p = loading.get(accountId)
      if (!p) {
        p = opts.load(accountId).then(
          (cards) => {
            loading.delete(accountId)
            const e = entryOf(accountId)
            // A flush that wrote this account meanwhile left fresher cards: keep those.
            if (e.cards === null) refresh(e, cards, clock.now())
          },
          (err) => {
            loading.delete(accountId)
            throw err
          },
        )
        loading.set(accountId, p)
      }
      return p
    },
    charge(accountId, costNano, requestId) {
      if (accountId === ROOT_ID || costNano <= 0) return
      entryOf(accountId).pendingNano += costNano
      queue.push({ accountId, costNano, requestId, atMs: clock.now() })
    },
    forget,
    async reload(accountIds) {
      const ids = accountIds.filter((id) => id !== ROOT_ID && entries.get(id)?.cards)
      if (ids.length === 0) return
      const loadMany = opts.loadMany
      if (!loadMany) return ids.forEach(forget)
      const writes = new Map(ids.map((id) => [id, entries.get(id)!.writes]))
      try {
        const cards = await loadMany(ids)
        const nowMs = clock.now()
        for (const id of ids) {
          const e = entries.get(id)
          // Written here meanwhile: the cards the write left are newer than this read.
          if (e && e.writes === writes.get(id)) refresh(e, cards.get(id) ?? [], nowMs)
        }
      } catch {
        ids.forEach(forget)
      }
    },
    pendingOf: (accountId) => entries.get(accountId)?.pendingNano ?? 0,
    forgetAll() {
      for (const id of [...entries.keys()]) forget(id)
    },
    pending: () => queue.length,
    drain() {
      const rows = queue
      queue = []
      return rows
    },
    async write(tx, rows, batch) {
      written.clear()
      const repo = createCardsRepo(tx)
      const byAccount = new Map<number, Charge[]>()
      for (const r of rows) {
        const list = byAccount.get(r.accountId)
        if (list) list.push(r)
        else byAccount.set(r.accountId, [r])
      }
      const nowMs = clock.now()
      // Accounts in id order, their cards read (and on PostgreSQL locked) in one statement in that
      // order: concurrent writers lock cards rows in one order, never a cycle.
      const ids = [...byAccount.keys()].sort((a, b) => a - b)
      const alive = await repo.existing(ids)
      const cardsOf = await repo.cardsOfMany(
        ids.filter((id) => alive.has(id)),
        true,
      )
      const ledgerRows: Array<{ accountId: number; charge: Charge }> = []
      const changed: Array<{ accountId: number; changes: CardChange[] }> = []
      const settled: Array<{ e: Entry; cards: Card[]; queued: number; accountId: number }> = []
      for (const accountId of ids) {
        const all = byAccount.get(accountId)!
        const queued = all.reduce((n, c) => n + c.costNano, 0)
        // Balances move only by calls whose usage row this flush inserted (none twice).
        const charges = batch.inserted ? insertedOnce(all, batch.inserted) : all
        const total = charges.reduce((n, c) => n + c.costNano, 0)
        const e = entryOf(accountId)
        if (!alive.has(accountId)) {
          // Deleted while its last calls were in flight: its closing ledger row took the held
          // money off the books, the calls were paid from it and the rest went to its ancestor
          // (wallet/holds.ts escrow). The usage records keep the facts.
          opts.log.info('calls of a deleted account settled against their holds', { accountId, costNano: total })
          settled.push({ e, cards: [], queued, accountId })
          continue
        }
        if (charges.length === 0) {
          settled.push({ e, cards: [], queued, accountId })
          continue
        }
        const spent = spend(cardsOf.get(accountId) ?? [], total, nowMs, { allowDebt: true })
        if (!spent.ok) throw new Error(`spend with debt refused for account ${accountId}`)
        changed.push({ accountId, changes: spent.changes })
        for (const charge of charges) ledgerRows.push({ accountId, charge })
        settled.push({ e, cards: spent.cards, queued, accountId })
      }
      await repo.persistMany(changed)
      await repo.usageRows(ledgerRows)
      // The cached cards and the queued total change together, once everything is written, so
      // no reader sees one without the other. The cache only sums balances: cards without their
      // new row ids serve it well.
      for (const x of settled) {
        x.e.writes++
        if (x.cards.length) refresh(x.e, x.cards, nowMs)
        x.e.pendingNano -= x.queued
        written.add(x.accountId)
      }
    },
    requeue(rows) {
      for (const r of rows) {
        const e = entryOf(r.accountId)
        if (written.has(r.accountId)) e.pendingNano += r.costNano
        e.cards = null
      }
      written.clear()
      queue = rows.concat(queue)
    },
  }
}
