// Book checks shared by the reliability tests, read from the store (SQLite or PostgreSQL):
// integrity (SQLite), one record and one charge per call, charges == records, cards == ledger for
// every account, aggregates == records.
import type { Sql } from '../../src/db/sql'
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

export async function dbFacts(sql: Sql): Promise<DbFacts> {
  const usage = await sql.all<UsageRow>(
    `SELECT request_id, account_id, cost_nano, status, estimated, prompt_tokens,
      completion_tokens FROM usage_records`,
  )
  return {
    usage,
    usageIds: new Set(usage.map((u) => u.request_id)),
    byRequest: new Map(usage.map((u) => [u.request_id, u])),
  }
}

const ROOT_ID = 1

/** Integrity, no double billing, charges == records, cards == ledger, aggregates == records. */
export async function expectBooksBalanced(sql: Sql, facts: DbFacts): Promise<void> {
  if (sql.engine === 'sqlite') {
    const integrity = await sql.all<{ integrity_check: string }>('PRAGMA integrity_check')
    expect(integrity.map((r) => r.integrity_check)).toEqual(['ok'])
  }

  expect(facts.usageIds.size, 'usage records with the same request id').toBe(facts.usage.length)

  const charges = await sql.all<{ account_id: number; delta_nano: number; ref: string }>(
    "SELECT account_id, delta_nano, ref FROM ledger WHERE reason = 'usage'",
  )
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

  const books = await sql.all<{ id: number; cards: number; ledger: number }>(
    `SELECT a.id,
      CAST((SELECT COALESCE(SUM(balance_nano), 0) FROM cards WHERE account_id = a.id) AS BIGINT) AS cards,
      CAST((SELECT COALESCE(SUM(delta_nano), 0) FROM ledger WHERE account_id = a.id) AS BIGINT) AS ledger
     FROM accounts a`,
  )
  expect(
    books.filter((b) => b.cards !== b.ledger),
    'accounts whose cards differ from their ledger',
  ).toEqual([])

  const daily = await sql.all<Record<string, number>>(
    `SELECT d.account_id, d.requests, d.cost_nano,
       r.requests AS rec_requests, r.cost_nano AS rec_cost
     FROM (SELECT account_id, CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(cost_nano) AS BIGINT) AS cost_nano
           FROM usage_daily GROUP BY account_id) d
     LEFT JOIN (SELECT account_id, COUNT(*) AS requests, CAST(SUM(cost_nano) AS BIGINT) AS cost_nano
                FROM usage_records GROUP BY account_id) r ON r.account_id = d.account_id`,
  )
  expect(
    daily.filter((d) => d.requests !== d.rec_requests || d.cost_nano !== d.rec_cost),
    'daily aggregates that disagree with the usage records',
  ).toEqual([])
}
