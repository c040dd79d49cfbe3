import { describe, expect, test } from 'bun:test'
import {
  addDays,
  dayKey,
  dayStartMs,
  dayStarts,
  daysBetween,
  parseDayKey,
} from '../../src/reports/days'
import { parseRange } from '../../src/reports/range'

describe('days of the TZ calendar', () => {
  test('keys, arithmetic and validity', () => {
    expect(dayKey(Date.parse('2026-01-15T23:30:00Z'), 'UTC')).toBe('2026-01-15')
    expect(dayKey(Date.parse('2026-01-15T23:30:00Z'), 'Asia/Tokyo')).toBe('2026-01-16')
    expect(dayKey(Date.parse('2026-01-15T03:00:00Z'), 'America/Los_Angeles')).toBe('2026-01-14')
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
    expect(daysBetween('2024-01-01', '2024-12-31')).toBe(365)
    expect(parseDayKey('2026-02-29')).toBeNull()
    expect(parseDayKey('2024-02-29')).toEqual({ y: 2024, m: 2, d: 29 })
    expect(parseDayKey('2026-1-01')).toBeNull()
  })

  test('day starts across daylight saving changes', () => {
    const ny = 'America/New_York'
    expect(dayStartMs('2026-03-08', ny)).toBe(Date.parse('2026-03-08T05:00:00Z'))
    expect(dayStartMs('2026-03-09', ny)).toBe(Date.parse('2026-03-09T04:00:00Z'))
    expect(dayStartMs('2026-11-02', ny)).toBe(Date.parse('2026-11-02T05:00:00Z'))
    const starts = dayStarts('2026-03-06', 270, ny)
    for (let i = 0; i < starts.length; i++) {
      expect(starts[i]).toBe(dayStartMs(addDays('2026-03-06', i), ny))
    }
    expect(dayStarts('2026-01-01', 3, 'Asia/Kolkata')).toEqual([
      Date.parse('2025-12-31T18:30:00Z'),
      Date.parse('2026-01-01T18:30:00Z'),
      Date.parse('2026-01-02T18:30:00Z'),
    ])
  })
})

describe('report ranges', () => {
  const today = '2026-01-15'
  test('defaults and combinations', () => {
    expect(parseRange({}, today)).toEqual({ start: '2026-01-01', end: today, days: 15 })
    expect(parseRange({ d: '2025-12-31' }, today)).toEqual({
      start: '2025-12-31',
      end: '2025-12-31',
      days: 1,
    })
    expect(parseRange({ s: '2026-01-10' }, today)).toEqual({
      start: '2026-01-10',
      end: today,
      days: 6,
    })
    expect(parseRange({ e: '2025-12-10' }, today)).toEqual({
      start: '2025-12-01',
      end: '2025-12-10',
      days: 10,
    })
    expect(parseRange({ days: '7' }, today)).toEqual({ start: '2026-01-09', end: today, days: 7 })
    expect(parseRange({ days: '2', start: '2026-02-27' }, today)).toEqual({
      start: '2026-02-27',
      end: '2026-02-28',
      days: 2,
    })
    expect(parseRange({ s: '2026-01-01', start: '2026-01-01' }, today).start).toBe('2026-01-01')
  })
})
