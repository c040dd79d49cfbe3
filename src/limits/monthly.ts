// Month-to-date spend per account in nano-USD, by calendar month in TZ, for the HardLimit and
// SoftLimit checks. Rolls over at the local month start; drained and restored like the windows.

import type { Clock } from '../shared/clock'
import { createCalendar, type Calendar } from './daykey'

/** One account's spend in the month starting at monthMs (local month start, unix ms). */
export type MonthRow = { accountId: number; monthMs: number; spendNano: number }

export type MonthlySpendOptions = { clock: Clock; timeZone?: string }

type Entry = { spendNano: number; dirty: boolean }

/**
 * Memory: one small entry per account that spent this month, all dropped at the month's end, so
 * the map is bounded by the number of accounts, never by traffic.
 */
export class MonthlySpend {
  private readonly clock: Clock
  readonly calendar: Calendar
  private monthMs: number
  private readonly spend = new Map<number, Entry>()
  /** Final rows of the month that just ended, not yet drained. */
  private pending: MonthRow[] = []

  constructor(opts: MonthlySpendOptions) {
    this.clock = opts.clock
    this.calendar = createCalendar(opts.timeZone)
    this.monthMs = this.calendar.month(this.clock.now()).startMs
  }

  /** Adds spend (a negative amount corrects it; the total never goes below zero). */
  add(accountId: number, nano: number): void {
    if (!Number.isFinite(nano) || nano === 0) return
    this.roll()
    const e = this.spend.get(accountId) ?? { spendNano: 0, dirty: false }
    e.spendNano = Math.max(0, e.spendNano + Math.round(nano))
    e.dirty = true
    this.spend.set(accountId, e)
  }

  /** This month's spend so far in nano-USD; 0 at the start of every local month. */
  get(accountId: number): number {
    this.roll()
    return this.spend.get(accountId)?.spendNano ?? 0
  }

  /** Drops a deleted account. */
  forget(accountId: number): void {
    this.spend.delete(accountId)
  }

  get size(): number {
    return this.spend.size
  }

  /** Accounts whose spend changed since the last drain, as rows; clears the dirty marks. */
  drain(): MonthRow[] {
    this.roll()
    const rows = this.pending
    this.pending = []
    for (const [accountId, e] of this.spend) {
      if (!e.dirty) continue
      e.dirty = false
      rows.push({ accountId, monthMs: this.monthMs, spendNano: e.spendNano })
    }
    return rows
  }

  /** Rebuilds this month's spend at start; rows of other months are dropped. */
  restore(rows: ReadonlyArray<MonthRow>, nowMs: number): void {
    const month = this.calendar.month(nowMs).startMs
    if (month > this.monthMs) this.roll(nowMs)
    for (const r of rows) {
      if (r.monthMs !== this.monthMs || !(r.spendNano > 0)) continue
      const e = this.spend.get(r.accountId) ?? { spendNano: 0, dirty: false }
      e.spendNano += Math.round(r.spendNano)
      this.spend.set(r.accountId, e)
    }
  }

  /** At a new local month: keep the ended month's unsaved totals for drain, then start empty. */
  private roll(nowMs = this.clock.now()): void {
    const month = this.calendar.month(nowMs).startMs
    // Only forward: a clock stepping back keeps the newer month.
    if (month <= this.monthMs) return
    for (const [accountId, e] of this.spend) {
      if (e.dirty) this.pending.push({ accountId, monthMs: this.monthMs, spendNano: e.spendNano })
    }
    this.spend.clear()
    this.monthMs = month
  }
}

export function createMonthlySpend(opts: MonthlySpendOptions): MonthlySpend {
  return new MonthlySpend(opts)
}
