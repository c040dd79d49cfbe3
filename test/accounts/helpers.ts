// Helpers for the subaccount API tests: one gateway per test file on 127.0.0.1:0 whose ledger
// invariant is asserted after every test, unique names, and short calls that keep the body for
// assertion messages.
import { afterAll, afterEach, beforeAll, expect } from 'bun:test'
import type { DepsOverrides } from '../../src/deps'
import { createFakeClock, type FakeClock } from '../../src/shared/clock'
import { createMemoryLogger } from '../../src/shared/log'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'

export type Reply = Awaited<ReturnType<typeof call>>

export const USD = 1_000_000_000
export const DAY_MS = 86_400_000

/** Cards total == ledger sum for every account; the message lists the accounts that fail. */
export async function expectInvariant(gw: TestGateway): Promise<void> {
  const v = await gw.deps.accounts.service.cards.invariantViolations()
  expect(v, `ledger invariant broken: ${JSON.stringify(v)}`).toEqual([])
}

export type Harness = {
  gw: TestGateway
  clock: FakeClock
  /** A name not used before in this process. */
  uniq(prefix?: string): string
  req(method: string, path: string, key: string, body?: unknown): Promise<Reply>
  /** POST /x-users as `key`; asserts 200 and returns the new account's ID, Name and key. */
  child(
    key: string,
    body?: Record<string, unknown>,
  ): Promise<{ id: number; name: string; key: string; reply: Reply }>
  /** GET /x-dna/{ident} as `key` (root by default); asserts 200, returns the user object. */
  get(ident: string | number, key?: string): Promise<any>
}

let seq = 0

/** A gateway for the file's tests (fake clock); checks the invariant after each; stops it. */
export function useGateway(
  env: Record<string, string> = {},
  overrides: DepsOverrides = {},
): Harness {
  const h = { clock: createFakeClock() } as Harness
  h.uniq = (prefix = 'acct') => `${prefix}-${process.pid}-${++seq}`
  h.req = (method, path, key, body) => call(h.gw, method, path, { key, body })
  h.child = async (key, body = {}) => {
    const name = (body.Name as string | undefined) ?? h.uniq()
    const r = await h.req('POST', '/x-users', key, {
      Name: name,
      Email: `${name}@example.com`,
      CreditGranted: 100,
      ...body,
    })
    expect(r.status, `create ${name}: ${r.text}`).toBe(200)
    return { id: r.body.User.ID, name, key: r.body.User.SecretKey, reply: r }
  }
  h.get = async (ident, key) => {
    const r = await h.req('GET', `/x-dna/${encodeURIComponent(String(ident))}`, key ?? h.gw.rootKey)
    expect(r.status, `GET /x-dna/${ident}: ${r.text}`).toBe(200)
    expect(Array.isArray(r.body), `GET /x-dna/${ident} is one object: ${r.text}`).toBe(false)
    return r.body
  }
  beforeAll(async () => {
    h.gw = await startTestGateway(env, { log: createMemoryLogger(), clock: h.clock, ...overrides })
  })
  afterEach(() => expectInvariant(h.gw))
  afterAll(async () => {
    await h.gw?.close()
  })
  return h
}

/** Sum of a CreditBalance array's balances in nano-USD (exact: each is a JSON dollar number). */
export function cardsNano(cards: Array<{ balance: number }>): number {
  return cards.reduce((s, c) => s + Math.round(c.balance * USD), 0)
}

/** The number of account rows, to prove that a refused request changed nothing. */
export function accountCount(gw: TestGateway): Promise<number> {
  return gw.deps.accounts.repo.count()
}

/** A digest of every money and account row, to prove that a refused request changed nothing. */
export async function stateDigest(gw: TestGateway): Promise<string> {
  const q = async (sql: string) => JSON.stringify(await gw.deps.sql.all(sql))
  return [
    await q('SELECT * FROM accounts ORDER BY id'),
    await q('SELECT * FROM cards ORDER BY id'),
    await q('SELECT COUNT(*) AS n, CAST(COALESCE(SUM(delta_nano), 0) AS BIGINT) AS s FROM ledger'),
    await q('SELECT COUNT(*) AS n FROM op_logs'),
  ].join('\n')
}
