// Month-to-date spend per account in nano-USD, by calendar month in TZ, for the HardLimit and
// SoftLimit checks. Rolls over at the local month start; drained and restored like the windows.

import type { Clock } from '../shared/clock'
import { createCalendar, type Calendar } from './daykey'

/** One account's spend in the month starting at monthMs (local month start, unix ms). */
export type MonthRow = { accountId: number; monthMs: number; spendNano: number }

export type MonthlySpendOptions = { clock: Clock; timeZone?: string }

type Entry = { spendNano: number }

/**
 * Memory: one small entry per account that spent this month, all dropped at the month's end, so
 * the map is bounded by the number of accounts, never by traffic.
 */
export class MonthlySpend {
  private readonly clock: Clock
  readonly calendar: Calendar
  private monthMs: number
  private readonly spend = new Map<number, Entry>()
  /** Accounts whose spend changed since the last drain. */
  private readonly dirty = new Set<number>()
  /** Final rows of the month that just ended, not yet drained. */
  private ended: MonthRow[] = []

  constructor(opts: MonthlySpendOptions) {
    this.clock = opts.clock
    this.calendar = createCalendar(opts.timeZone)
    this.monthMs = this.calendar.month(this.clock.now()).startMs
  }

  /** Adds spend (a negative amount corrects it; the total never goes below zero). */
  add(accountId: number, nano: number): void {
    if (!Number.isFinite(nano) || nano === 0) return
    this.roll()
    const e = this.spend.get(accountId) ?? { spendNano: 0 }
    e.spendNano = Math.max(0, e.spendNano + Math.round(nano))
    this.spend.set(accountId, e)
    this.dirty.add(accountId)
  }

  /** Replaces an account's spend this month (several nodes: the total they all wrote). */
  set(accountId: number, nano: number): void {
    if (!Number.isSafeInteger(nano) || nano < 0) return
    this.roll()
    if ((this.spend.get(accountId)?.spendNano ?? 0) === nano) return
    this.spend.set(accountId, { spendNano: nano })
    this.dirty.add(accountId)
  }

  /** This month's spend so far in nano-USD; 0 at the start of every local month. */
  get(accountId: number): number {
    this.roll()
    return this.spend.get(accountId)?.spendNano ?? 0
  }

  /** Drops a deleted account. */
  forget(accountId: number): void {
    this.spend.delete(accountId)
    this.dirty.delete(accountId)
  }

  /** Rows waiting for the write-behind. */
  pending(): number {
    return this.dirty.size + this.ended.length
  }

  get size(): number {
    return this.spend.size
  }

  /** Accounts whose spend changed since the last drain, as rows; clears the dirty marks. */
  drain(): MonthRow[] {
    this.roll()
    const rows = this.ended
    this.ended = []
    for (const accountId of this.dirty) {
      const e = this.spend.get(accountId)
      if (e) rows.push({ accountId, monthMs: this.monthMs, spendNano: e.spendNano })
    }
    this.dirty.clear()
    return rows
  }

  /** Rebuilds this month's spend at start; rows of other months are dropped. */
  restore(rows: ReadonlyArray<MonthRow>, nowMs: number): void {
    const month = this.calendar.month(nowMs).startMs
    if (month > this.monthMs) this.roll(nowMs)
    for (const r of rows) {
      if (r.monthMs !== this.monthMs || !(r.spendNano > 0)) continue
      const e = this.spend.get(r.accountId) ?? { spendNano: 0 }
      e.spendNano += Math.round(r.spendNano)
      this.spend.set(r.accountId, e)
    }
  }

  /** At a new local month: keep the ended month's unsaved totals for drain, then start empty. */
  private roll(nowMs = this.clock.now()): void {
    const month = this.calendar.month(nowMs).startMs
    // Only forward: a clock stepping back keeps the newer month.
    if (month <= this.monthMs) return
    for (const accountId of this.dirty) {
      const e = this.spend.get(accountId)
      if (e) this.ended.push({ accountId, monthMs: this.monthMs, spendNano: e.spendNano })
    }
    this.dirty.clear()
    this.spend.clear()
    this.monthMs = month
  }
}

export function createMonthlySpend(opts: MonthlySpendOptions): MonthlySpend {
  return new MonthlySpend(opts)
}
