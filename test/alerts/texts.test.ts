// The alert texts: dollars with two decimals rounded down, the account, the limit and the month.
import { describe, expect, test } from 'bun:test'
import { formatUsd, lowBalanceText, softLimitText } from '../../src/alerts/texts'
import { NANO_PER_USD } from '../../src/shared/money'

const ACCOUNT = {
  id: 9,
  name: 'gamma9',
  email: 'g@example.com',
  billingEmail: null,
  softLimitNano: 80 * NANO_PER_USD,
}

describe('alert texts', () => {
  test('formatUsd shows cents, rounding down', () => {
    expect(formatUsd(0)).toBe('$0.00')
    expect(formatUsd(5 * NANO_PER_USD)).toBe('$5.00')
    expect(formatUsd(1_234_567_890_123)).toBe('$1234.56')
    expect(formatUsd(2_999_999_999)).toBe('$2.99')
    expect(formatUsd(70_000_000)).toBe('$0.07')
    expect(formatUsd(-1)).toBe('-$0.01')
    expect(formatUsd(-250_000_000)).toBe('-$0.25')
  })

  test('SoftLimit text names the account, the spend, the limit and the month', () => {
    const m = softLimitText(ACCOUNT, 80_500_000_000, '2026-11')
    expect(m.subject).toBe('xgate: gamma9 reached its monthly soft limit (2026-11)')
    expect(m.text).toContain('Account gamma9 has spent $80.50 in 2026-11')
    expect(m.text).toContain('soft limit of $80.00')
  })

  test('low-balance text names the balance, the threshold and the month', () => {
    const m = lowBalanceText(ACCOUNT, 1_500_000_000, 3 * NANO_PER_USD, '2026-11')
    expect(m.subject).toBe('xgate: gamma9 balance is low ($1.50)')
    expect(m.text).toContain('account gamma9 is $1.50 (2026-11)')
    expect(m.text).toContain('threshold of $3.00')
  })
})
