// Book checks shared by the reliability tests, read from SQLite: integrity, one record and one
// charge per call, charges == records, cards == ledger for every account, aggregates == records.
import type { Database } from 'bun:sqlite'
import { expect } from 'bun:test'

export type UsageRow = {
  request_id: string
  account_id: number
  cost_nano: number
  status: number
  estimated: number
  prompt_tokens: number
  completion_tokens: number
}

export type DbFacts = {
  usage: UsageRow[]
  usageIds: Set<string>
  byRequest: Map<string, UsageRow>
}

export function dbFacts(db: Database): DbFacts {
  const usage = db
    .prepare(
      `SELECT request_id, account_id, cost_nano, status, estimated, prompt_tokens,
        completion_tokens FROM usage_records`,
    )
    .all() as UsageRow[]
  return {
    usage,
    usageIds: new Set(usage.map((u) => u.request_id)),
    byRequest: new Map(usage.map((u) => [u.request_id, u])),
  }
}

const ROOT_ID = 1

/** Integrity, no double billing, charges == records, cards == ledger, aggregates == records. */
export function expectBooksBalanced(db: Database, facts: DbFacts): void {
  const integrity = db.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>
  expect(integrity.map((r) => r.integrity_check)).toEqual(['ok'])

  expect(facts.usageIds.size, 'usage records with the same request id').toBe(facts.usage.length)

  const charges = db
    .prepare("SELECT account_id, delta_nano, ref FROM ledger WHERE reason = 'usage'")
    .all() as Array<{ account_id: number; delta_nano: number; ref: string }>
  const refs = new Set(charges.map((c) => c.ref))
  expect(refs.size, 'usage ledger rows with the same request id (a call charged twice)').toBe(
    charges.length,
  )
  const unmatched = charges.filter((c) => {
    const u = facts.byRequest.get(c.ref)
    return !u || u.account_id !== c.account_id || u.cost_nano !== -c.delta_nano
  })
  expect(unmatched, 'usage charges without the usage record they bill').toEqual([])
  const uncharged = facts.usage.filter(
    (u) => u.account_id !== ROOT_ID && u.cost_nano > 0 && !refs.has(u.request_id),
  )
  expect(
    uncharged.map((u) => u.request_id),
    'usage records whose charge is not on the ledger',
  ).toEqual([])

  const books = db
    .prepare(
      `SELECT a.id,
        (SELECT COALESCE(SUM(balance_nano), 0) FROM cards WHERE account_id = a.id) AS cards,
        (SELECT COALESCE(SUM(delta_nano), 0) FROM ledger WHERE account_id = a.id) AS ledger
       FROM accounts a`,
    )
    .all() as Array<{ id: number; cards: number; ledger: number }>
  expect(
    books.filter((b) => b.cards !== b.ledger),
    'accounts whose cards differ from their ledger',
  ).toEqual([])

  const daily = db
    .prepare(
      `SELECT d.account_id, d.requests, d.cost_nano,
         r.requests AS rec_requests, r.cost_nano AS rec_cost
       FROM (SELECT account_id, SUM(requests) AS requests, SUM(cost_nano) AS cost_nano
             FROM usage_daily GROUP BY account_id) d
       LEFT JOIN (SELECT account_id, COUNT(*) AS requests, SUM(cost_nano) AS cost_nano
                  FROM usage_records GROUP BY account_id) r ON r.account_id = d.account_id`,
    )
    .all() as Array<Record<string, number>>
  expect(
    daily.filter((d) => d.requests !== d.rec_requests || d.cost_nano !== d.rec_cost),
    'daily aggregates that disagree with the usage records',
  ).toEqual([])
}
