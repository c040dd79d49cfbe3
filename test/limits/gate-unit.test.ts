// The gate without HTTP: the tokenizer is asked only when a token limit applies, the estimate's
// parts and cap, a live MODEL_LIMITS change, the HardLimit denial.
import { describe, expect, test } from 'bun:test'
import { baseAccount } from '../../src/accounts/bootstrap'
import type { Account, ModelLimits } from '../../src/accounts/repo'
import {
  COMPLETION_RESERVE_CAP,
  requestedCompletion,
  reserveTokens,
} from '../../src/limits/estimate'
import { createLimitsGate } from '../../src/limits/gate'
import { createMonthlySpend } from '../../src/limits/monthly'
import { createLimitWindows } from '../../src/limits/windows'
import { createFakeClock } from '../../src/shared/clock'

const account = (id: number, fields: Partial<Account> = {}): Account => ({
  ...baseAccount(0),
  id,
  parentId: 1,
  name: `acct${id}`,
  email: `acct${id}@example.com`,
  alias: `acct${id}`,
  dna: `.1.${id}.`,
  keyHash: 'h',
  keyTail: 't',
  ...fields,
})

function setup(global: { table: ModelLimits }) {
  const clock = createFakeClock()
  const windows = createLimitWindows({ clock, timeZone: 'UTC' })
  const monthly = createMonthlySpend({ clock, timeZone: 'UTC' })
  let prompts = 0
  const gate = createLimitsGate({
    windows,
    monthly,
    clock,
    limitChain: (a) => [a],
    modelLimits: () => global.table,
    prompt: () => {
      prompts++
      return 10
    },
  })
  const body = { model: 'm', messages: [], max_tokens: 5 }
  const reserve = (a: Account, model = 'm') =>
    gate.reserve({ account: a, model, mappedModel: model, body })
  return { gate, windows, monthly, reserve, prompts: () => prompts }
}

describe('gate', () => {
  test('the prompt counter runs only when some scope limits tokens; reservations are exact', () => {
    const g = setup({ table: {} })
    const plain = account(10, { rpm: 5 })
    expect(g.reserve(plain).ok).toBe(true)
    expect(g.prompts()).toBe(0)
    const tokens = account(11, { tpm: 100 })
    const r = g.reserve(tokens)
    expect(g.prompts()).toBe(1)
    expect(g.windows.usage('a:11').tpm).toBe(15)
    if (!r.ok) throw new Error(r.message)
    g.gate.settle(r.ticket, { totalTokens: 40, costNano: 0 })
    expect(g.windows.usage('a:11').tpm).toBe(40)
    const r2 = g.reserve(tokens)
    if (!r2.ok) throw new Error(r2.message)
    g.gate.release(r2.ticket)
    expect(g.windows.usage('a:11')).toMatchObject({ rpm: 1, tpm: 40 })
  })

  test('an account without any limit is admitted without touching the store', () => {
    const g = setup({ table: {} })
    expect(g.reserve(account(12)).ok).toBe(true)
    expect(g.windows.stats().scopes).toBe(0)
  })

  test('a new MODEL_LIMITS value applies to the next call', () => {
    const global = { table: { m: { rpm: 1 } } as ModelLimits }
    const g = setup(global)
    const a = account(13)
    expect(g.reserve(a).ok).toBe(true)
    expect(g.reserve(a).ok).toBe(false)
    global.table = { m: { rpm: 3 } }
    expect(g.reserve(a).ok).toBe(true)
    global.table = {}
    expect(g.reserve(a).ok).toBe(true)
  })

  test('HardLimit: admitted below, denied at the limit with the month in the message', () => {
    const g = setup({ table: {} })
    const a = account(14, { hardLimitNano: 100 })
    g.monthly.add(14, 99)
    expect(g.reserve(a).ok).toBe(true)
    g.monthly.add(14, 1)
    const r = g.reserve(a)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.code).toBe('hard_limit_reached')
    expect(r.message).toContain('2026-01')
    expect(r.retryAfterMs).toBe(Date.UTC(2026, 1, 1) - Date.UTC(2026, 0, 15, 12))
  })
})

describe('estimate', () => {
  test('max_tokens, max_completion_tokens or max_output_tokens, capped; multipart reserves 0', () => {
    expect(requestedCompletion({ max_tokens: 7 })).toBe(7)
    expect(requestedCompletion({ max_completion_tokens: 8 })).toBe(8)
    expect(requestedCompletion({ max_output_tokens: 9 })).toBe(9)
    expect(requestedCompletion({ max_tokens: 'x', max_output_tokens: -1 })).toBe(0)
    expect(reserveTokens({ max_tokens: 1e9 }, () => 3)).toBe(3 + COMPLETION_RESERVE_CAP)
    expect(reserveTokens(null, () => 3)).toBe(0)
  })
})
