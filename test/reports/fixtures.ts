// Fixtures for the report, news, rotation, dashboard and settings tests: accounts inserted through
// the accounts repository (with a card and its ledger row), usage written into usage_daily the
// way the write-behind does (an upsert), and a JSON call through app.handle().
import { baseAccount } from '../../src/accounts/bootstrap'
import type { Account } from '../../src/accounts/repo'
import { generateKey, hashKey, partialKey } from '../../src/shared/ids'
import { createFakeClock } from '../../src/shared/clock'
import { makeTestApp } from '../helpers/app'

export type T = Awaited<ReturnType<typeof makeTestApp>>
const DAY_MS = 86_400_000

/** A test app on a fake clock (2026-01-15 12:00 UTC unless told). */
export async function makeApp(env: Record<string, string> = {}, startMs?: number) {
  const clock = createFakeClock(startMs)
  const t = await makeTestApp(env, { clock })
  return { ...t, clock }
}

let seq = 0

/** A child of `parent` with a fresh key and `creditUsd` on one card valid a year. */
export async function addAccount(
  t: T,
  parent: Account | null,
  fields: Partial<Account> & { creditUsd?: number } = {},
): Promise<{ account: Account; key: string }> {
  const key = generateKey()
  const now = t.deps.clock.now()
  const n = ++seq
  const { creditUsd = 50, ...rest } = fields
  const p = parent ?? (await t.deps.accounts.repo.findById(1))!
  const name = rest.name ?? `user${n}x`
  const account = await t.deps.accounts.repo.insert(
    {
      ...baseAccount(now),
      parentId: p.id,
      name,
      email: `${name}@example.com`,
      alias: name,
      keyHash: hashKey(key),
      keyTail: partialKey(key),
      ...rest,
    },
    p.dna,
  )
  const nano = Math.round(creditUsd * 1e9)
  if (nano > 0) {
    await t.deps.accounts.service.cards.addCard(account.id, nano, now, now + 365 * DAY_MS, null)
    await t.deps.accounts.service.cards.addLedger(account.id, nano, 'recharge', null, now)
  }
  return { account, key }
}

export type UsageInput = {
  requests?: number
  prompt?: number
  completion?: number
  cached?: number
  costNano?: number
  cacheWrite?: number
}

/** Adds usage to one day × account × model, as the write-behind's upsert does. */
export async function addUsage(t: T, day: string, accountId: number, model: string, u: UsageInput = {}) {
  await t.deps.sql.run(`INSERT INTO usage_daily (day, account_id, model, requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, cost_nano)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (day, account_id, model) DO UPDATE SET requests = usage_daily.requests + excluded.requests,
        prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens,
        cached_tokens = usage_daily.cached_tokens + excluded.cached_tokens,
        cache_write_tokens = usage_daily.cache_write_tokens + excluded.cache_write_tokens,
        cost_nano = usage_daily.cost_nano + excluded.cost_nano`, [day,
      accountId,
      model,
      u.requests ?? 1,
      u.prompt ?? 100,
      u.completion ?? 50,
      u.cached ?? 0,
      u.cacheWrite ?? 0,
      u.costNano ?? 1_000_000])
}

/** One JSON call through app.handle(); the body is parsed when it is JSON. */
export async function call(
  t: T,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; text: string }> {
  const res = await t.app.handle(t.request(method, path, opts))
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON
  }
  return { status: res.status, body, text }
}

/** The op log rows of one action, newest first. */
export async function opRows(t: T, action: string): Promise<Array<Record<string, any>>> {
  return (
    (await t.deps.sql.all('SELECT * FROM op_logs WHERE action = ? ORDER BY id DESC', [action])) as Array<Record<string, any>>
  ).map((r) => ({ ...r, details: JSON.parse(String(r.details)) }))
}
