// The hot-path balance: per account, the persisted card balance (read lazily from SQLite, then
// cached) minus charges not yet written. charge() only queues; as a FlushSource the ledger draws
// the queued charges from the account's cards in the flusher's transaction (debt allowed: the
// call already happened), one ledger row per call. Root (id 1) is never charged.
import { balanceOf, spend, type Card } from './cards'
import type { FlushSource } from '../db/flusher'
import type { Clock } from '../shared/clock'
import type { Logger } from '../shared/log'
import type { CardsRepo } from './repo'

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
}

export type Ledger = FlushSource<Charge> & {
  /** Spendable balance in the account's book units (nano); root's is unlimited. */
  balanceOf(accountId: number): number
  /** Queues the cost of a finished call; never refuses (the call has happened). */
  charge(accountId: number, costNano: number, requestId: string): void
  /** Forgets cached cards (after an admin change); queued charges stay. */
  forget(accountId: number): void
}

export function createLedger(opts: {
  repo: Pick<CardsRepo, 'cardsOf' | 'accountExists' | 'applyUsage'>
  clock: Clock
  log: Logger
  maxEntries?: number
}): Ledger {
  const { repo, clock } = opts
  const maxEntries = opts.maxEntries ?? 100_000
  const entries = new Map<number, Entry>()
  let queue: Charge[] = []

  const entryOf = (accountId: number): Entry => {
    let e = entries.get(accountId)
    if (!e) {
      if (entries.size >= maxEntries) evictIdle()
      e = { cards: null, liveNano: 0, validUntilMs: 0, pendingNano: 0 }
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
    e.liveNano = balanceOf(cards, nowMs)
    let next = Number.POSITIVE_INFINITY
    for (const c of cards)
      if (c.expiresAtMs > nowMs && c.balanceNano !== 0 && c.expiresAtMs < next) next = c.expiresAtMs
    e.validUntilMs = next
  }

  return {
    name: 'ledger',
    balanceOf(accountId) {
      if (accountId === ROOT_ID) return Number.MAX_SAFE_INTEGER
      const e = entryOf(accountId)
      const nowMs = clock.now()
      if (e.cards === null) refresh(e, repo.cardsOf(accountId), nowMs)
      else if (nowMs >= e.validUntilMs) refresh(e, e.cards, nowMs)
      return e.liveNano - e.pendingNano
    },
    charge(accountId, costNano, requestId) {
      if (accountId === ROOT_ID || costNano <= 0) return
      entryOf(accountId).pendingNano += costNano
      queue.push({ accountId, costNano, requestId, atMs: clock.now() })
    },
    forget(accountId) {
      const e = entries.get(accountId)
      if (!e) return
      if (e.pendingNano === 0) entries.delete(accountId)
      else e.cards = null
    },
    pending: () => queue.length,
    drain() {
      const rows = queue
      queue = []
      return rows
    },
    write(rows) {
      const byAccount = new Map<number, Charge[]>()
      for (const r of rows) {
        const list = byAccount.get(r.accountId)
        if (list) list.push(r)
        else byAccount.set(r.accountId, [r])
      }
      const nowMs = clock.now()
      for (const [accountId, charges] of byAccount) {
        const total = charges.reduce((n, c) => n + c.costNano, 0)
        const e = entryOf(accountId)
        e.pendingNano -= total
        if (!repo.accountExists(accountId)) {
          // Deleted while its last calls were in flight: its closing ledger row took the held
          // money off the books, the calls were paid from it and the rest went to its ancestor
          // (wallet/holds.ts escrow). The usage records keep the facts.
          opts.log.info('calls of a deleted account settled against their holds', {
            accountId,
            costNano: total,
          })
          continue
        }
        const spent = spend(repo.cardsOf(accountId), total, nowMs, { allowDebt: true })
        if (!spent.ok) throw new Error(`spend with debt refused for account ${accountId}`)
        repo.applyUsage(accountId, spent.changes, charges)
        // The cache only sums balances, so cards without their new row ids serve it well.
        refresh(e, spent.cards, nowMs)
      }
    },
    requeue(rows) {
      for (const r of rows) {
        const e = entryOf(r.accountId)
        e.pendingNano += r.costNano
        e.cards = null
      }
      queue = rows.concat(queue)
    },
  }
}
