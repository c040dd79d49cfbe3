// Usage records: queued in memory, written with the daily aggregate (day in TZ) by the flusher.
import { openTestStore } from '../helpers/engine'
import { expect, test } from 'bun:test'
import { createBillingRepo, type UsageRecord } from '../../src/billing/repo'
import { createCardsRepo } from '../../src/wallet/repo'
import { createUsageStore } from '../../src/billing/usage'
import { createCalendar } from '../../src/limits/daykey'

const rec = (id: string, at: number, over: Partial<UsageRecord> = {}): UsageRecord => ({
  requestId: id,
  createdAt: at,
  accountId: 7,
  keyId: 1,
  endpoint: '/v1/chat/completions',
  model: 'm',
  mappedModel: 'gpt-4o-mini',
  promptTokens: 10,
  completionTokens: 5,
  cachedTokens: 2,
  cacheWriteTokens: 0,
  cacheWrite1hTokens: 0,
  totalTokens: 15,
  listNano: 100,
  costNano: 150,
  status: 200,
  latencyMs: 12,
  ttfbMs: 3,
  estimated: false,
  clientIp: '127.0.0.1',
  ...over,
})

/** An in-memory store and its usage store, days counted in `tz`. */
async function usageIn(tz: string) {
  const store = await openTestStore()
  const usage = createUsageStore({
        calendar: createCalendar(tz),
  })
  return { store, usage }
}

test('records and daily aggregates round-trip; the day follows TZ; requeue keeps order', async () => {
  const { store, usage } = await usageIn('America/New_York')
  // 03:00 UTC on Jan 16 is still Jan 15 in New York.
  const t = Date.UTC(2026, 0, 16, 3, 0, 0)
  usage.add(rec('r1', t))
  usage.add(
    rec('r2', t + 1000, {
      estimated: true,
      costNano: 50,
      cacheWriteTokens: 6,
      cacheWrite1hTokens: 2,
    }),
  )
  const rows = usage.drain()
  usage.requeue!(rows)
  expect(usage.pending()).toBe(2)
  await store.sql.tx((tx) => usage.write(tx, usage.drain(), { inserted: null }))
  const saved = (await store.sql.all(`SELECT request_id, estimated, cost_nano, cache_write_tokens, cache_write_1h_tokens
      FROM usage_records ORDER BY id`))
  expect(saved).toEqual([
    {
      request_id: 'r1',
      estimated: 0,
      cost_nano: 150,
      cache_write_tokens: 0,
      cache_write_1h_tokens: 0,
    },
    {
      request_id: 'r2',
      estimated: 1,
      cost_nano: 50,
      cache_write_tokens: 6,
      cache_write_1h_tokens: 2,
    },
  ])
  const daily = (await store.sql.all('SELECT * FROM usage_daily'))
  expect(daily).toEqual([
    {
      day: '2026-01-15',
      account_id: 7,
      model: 'gpt-4o-mini',
      requests: 2,
      prompt_tokens: 20,
      completion_tokens: 10,
      cached_tokens: 4,
      cache_write_tokens: 6,
      cost_nano: 200,
    },
  ])
})

test('daily aggregates of an interleaved batch: runs and returns to earlier keys add up', async () => {
  const { store, usage } = await usageIn('UTC')
  const day1 = Date.UTC(2026, 0, 15, 23, 59, 0)
  const day2 = Date.UTC(2026, 0, 16, 0, 1, 0)
  const plan: Array<[number, number, string]> = [
    [day1, 7, 'a'],
    [day1, 7, 'a'],
    [day1, 8, 'a'],
    [day1, 7, 'b'],
    [day1, 7, 'a'],
    [day2, 7, 'a'],
    [day2, 7, 'a'],
    [day1, 8, 'a'],
    [day2, 8, 'b'],
  ]
  plan.forEach(([at, accountId, mappedModel], i) =>
    usage.add(rec(`i${i}`, at, { accountId, mappedModel, costNano: i + 1 })),
  )
  await store.sql.tx((tx) => usage.write(tx, usage.drain(), { inserted: null }))
  const daily = (await store.sql.all('SELECT day, account_id, model, requests, cost_nano FROM usage_daily ORDER BY day, account_id, model'))
  expect(daily).toEqual([
    { day: '2026-01-15', account_id: 7, model: 'a', requests: 3, cost_nano: 1 + 2 + 5 },
    { day: '2026-01-15', account_id: 7, model: 'b', requests: 1, cost_nano: 4 },
    { day: '2026-01-15', account_id: 8, model: 'a', requests: 2, cost_nano: 3 + 8 },
    { day: '2026-01-16', account_id: 7, model: 'a', requests: 2, cost_nano: 6 + 7 },
    { day: '2026-01-16', account_id: 8, model: 'b', requests: 1, cost_nano: 9 },
  ])
})

test('a batch of any size is stored whole, in order, field for field; a repeated id is ignored', async () => {
  const store = await openTestStore()
  const usage = createUsageStore({ calendar: createCalendar('UTC') })
  const t = Date.UTC(2026, 0, 16, 12, 0, 0)
  // 64 + 8 + 1 + a remainder: every chunk size of the multi-row insert, then single rows.
  const n = 64 * 2 + 8 * 3 + 5
  for (let i = 0; i < n; i++)
    usage.add(
      rec(`r${i}`, t + i, {
        keyId: i % 7 === 0 ? null : i,
        ttfbMs: i % 5 === 0 ? null : i,
        estimated: i % 2 === 0,
        costNano: i,
        clientIp: `10.0.0.${i % 250}`,
      }),
    )
  usage.add(rec('r3', t, { costNano: 999_999 }))
  await store.sql.tx((tx) => usage.write(tx, usage.drain(), { inserted: null }))
  const saved = (await store.sql.all('SELECT request_id, created_at, key_id, ttfb_ms, estimated, cost_nano, client_ip FROM usage_records ORDER BY id')) as any[]
  expect(saved.length).toBe(n)
  for (let i = 0; i < n; i++) {
    expect(saved[i]).toEqual({
      request_id: `r${i}`,
      created_at: t + i,
      key_id: i % 7 === 0 ? null : i,
      ttfb_ms: i % 5 === 0 ? null : i,
      estimated: i % 2 === 0 ? 1 : 0,
      cost_nano: i,
      client_ip: `10.0.0.${i % 250}`,
    })
  }
})

test('ledger rows of a batch: one per charge, in order, for every chunk size', async () => {
  const store = await openTestStore()
  const repo = createCardsRepo(store.sql)
  const charges = Array.from({ length: 64 + 8 * 2 + 3 }, (_, i) => ({
    costNano: 1000 + i,
    requestId: `req_${i}`,
    atMs: 5_000 + i,
  }))
  await repo.usageRows(charges.map((charge) => ({ accountId: 9, charge })))
  const rows = (await store.sql.all('SELECT account_id, delta_nano, reason, ref, created_at FROM ledger ORDER BY id'))
  expect(rows).toEqual(
    charges.map((c) => ({
      account_id: 9,
      delta_nano: -c.costNano,
      reason: 'usage',
      ref: c.requestId,
      created_at: c.atMs,
    })),
  )
})
