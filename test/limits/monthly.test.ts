// Month-to-date spend per account: adds up, rolls over at the local month start, drains once.

import { expect, test } from 'bun:test'
import { createFakeClock } from '../../src/shared/clock'
import { createMonthlySpend } from '../../src/limits/monthly'

// 2026-01-31T15:00Z is 23:00 on 31 January in Shanghai; February starts there at 16:00 UTC.
const LATE_JAN = Date.UTC(2026, 0, 31, 15, 0, 0)
const FEB = Date.UTC(2026, 0, 31, 16, 0, 0)

test('spend adds up per account and never goes below zero', () => {
  const m = createMonthlySpend({ clock: createFakeClock(LATE_JAN), timeZone: 'Asia/Shanghai' })
  m.add(42, 300)
  m.add(42, 700)
  m.add(7, 5)
  expect(m.get(42)).toBe(1000)
  expect(m.get(7)).toBe(5)
  expect(m.get(99)).toBe(0)
  m.add(7, -50)
  expect(m.get(7)).toBe(0)
})

test('rolls over at local month start; the ended month is still drained once', () => {
  const clock = createFakeClock(LATE_JAN)
  const m = createMonthlySpend({ clock, timeZone: 'Asia/Shanghai' })
  m.add(42, 1000)
  clock.set(FEB - 1)
  expect(m.get(42)).toBe(1000)
  clock.set(FEB)
  expect(m.get(42)).toBe(0)
  expect(m.size).toBe(0)
  m.add(42, 5)
  const rows = m.drain()
  expect(rows).toEqual([
    { accountId: 42, monthMs: Date.UTC(2025, 11, 31, 16, 0, 0), spendNano: 1000 },
    { accountId: 42, monthMs: FEB, spendNano: 5 },
  ])
  expect(m.drain()).toEqual([])
})

test('restore keeps only this month and forget drops an account', () => {
  const clock = createFakeClock(FEB + 1000)
  const m = createMonthlySpend({ clock, timeZone: 'Asia/Shanghai' })
  m.restore(
    [
      { accountId: 42, monthMs: FEB, spendNano: 900 },
      { accountId: 42, monthMs: Date.UTC(2025, 11, 31, 16, 0, 0), spendNano: 5000 },
      { accountId: 7, monthMs: FEB, spendNano: 30 },
    ],
    clock.now(),
  )
  expect(m.get(42)).toBe(900)
  m.forget(7)
  expect(m.get(7)).toBe(0)
  m.add(42, 100)
  expect(m.drain()).toEqual([{ accountId: 42, monthMs: FEB, spendNano: 1000 }])
})
