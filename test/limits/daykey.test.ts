// Calendar days and months in a configured zone: local midnight, DST days of 23 and 25 hours.

import { describe, expect, test } from 'bun:test'
import { createCalendar } from '../../src/limits/daykey'

const iso = (ms: number) => new Date(ms).toISOString()
const H = 3_600_000

describe('day boundaries', () => {
  test('Asia/Shanghai: a day runs from 16:00 UTC to 16:00 UTC', () => {
    const cal = createCalendar('Asia/Shanghai')
    const d = cal.day(Date.parse('2026-01-15T12:00:00Z'))
    expect(d.key).toBe('2026-01-15')
    expect(iso(d.startMs)).toBe('2026-01-14T16:00:00.000Z')
    expect(iso(d.endMs)).toBe('2026-01-15T16:00:00.000Z')
    // 15:59:59.999 UTC is still the 15th in Shanghai; 16:00 is the 16th.
    expect(cal.day(d.endMs - 1).key).toBe('2026-01-15')
    expect(cal.day(d.endMs).key).toBe('2026-01-16')
  })

  test('America/New_York: spring-forward day lasts 23 h, fall-back day 25 h', () => {
    const cal = createCalendar('America/New_York')
    const spring = cal.day(Date.parse('2026-03-08T15:00:00Z'))
    expect(spring.key).toBe('2026-03-08')
    expect(iso(spring.startMs)).toBe('2026-03-08T05:00:00.000Z')
    expect(spring.endMs - spring.startMs).toBe(23 * H)
    const fall = cal.day(Date.parse('2026-11-01T15:00:00Z'))
    expect(iso(fall.startMs)).toBe('2026-11-01T04:00:00.000Z')
    expect(fall.endMs - fall.startMs).toBe(25 * H)
  })

  test('America/Havana: a day whose midnight is skipped starts at the jump', () => {
    const cal = createCalendar('America/Havana')
    const d = cal.day(Date.parse('2026-03-08T12:00:00Z'))
    expect(d.key).toBe('2026-03-08')
    expect(iso(d.startMs)).toBe('2026-03-08T05:00:00.000Z')
    expect(d.endMs - d.startMs).toBe(23 * H)
  })

  test('Pacific/Apia: the skipped 30 December 2011 is jumped over', () => {
    const cal = createCalendar('Pacific/Apia')
    const d = cal.day(Date.parse('2011-12-29T12:00:00Z'))
    expect(d.key).toBe('2011-12-29')
    expect(cal.day(d.endMs).key).toBe('2011-12-31')
  })

  test('every hour of a year lies inside the day returned for it, under the right date', () => {
    const cal = createCalendar('Europe/Berlin')
    const local = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' })
    for (
      let t = Date.parse('2026-01-01T00:30:00Z');
      t < Date.parse('2027-01-01T00:00:00Z');
      t += H
    ) {
      const d = cal.day(t)
      expect(t >= d.startMs && t < d.endMs).toBe(true)
      expect(d.key).toBe(local.format(t))
    }
    const fresh = createCalendar('Europe/Berlin').day(Date.parse('2026-10-25T12:00:00Z'))
    expect(fresh.endMs - fresh.startMs).toBe(25 * H)
  })
})

describe('month boundaries', () => {
  test('months start at local midnight of the 1st', () => {
    const cal = createCalendar('Asia/Shanghai')
    const m = cal.month(Date.parse('2026-02-10T00:00:00Z'))
    expect(m.key).toBe('2026-02')
    expect(iso(m.startMs)).toBe('2026-01-31T16:00:00.000Z')
    expect(iso(m.endMs)).toBe('2026-02-28T16:00:00.000Z')
    expect(cal.month(m.startMs - 1).key).toBe('2026-01')
  })

  test('December rolls into January of the next year', () => {
    const cal = createCalendar('America/New_York')
    const m = cal.month(Date.parse('2026-12-31T12:00:00Z'))
    expect(m.key).toBe('2026-12')
    expect(iso(m.endMs)).toBe('2027-01-01T05:00:00.000Z')
  })
})

test('an unknown zone is refused with a line naming TZ', () => {
  expect(() => createCalendar('Mars/Olympus_Mons')).toThrow(/TZ: unknown time zone/)
})
