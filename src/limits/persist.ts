// The limit store and the monthly spend as write-behind sources (FlushSource): rows drained every
// flush, written in the flusher's transaction, kept for the next try when it fails; old buckets
// pruned now and then.
import type { FlushSource } from '../db/flusher'
import type { Clock } from '../shared/clock'
import type { MonthlySpend, MonthRow } from './monthly'
import { createMonthSpendRepo, createWindowsRepo } from './repo'
import type { LimitWindows, WindowRow } from './windows'

/**
 * Expired bucket rows are deleted at most this often (and once at start): a range delete at the
 * left of each kind's keys, so a minute's worth of dead minute buckets never piles up for long.
 */
export const PRUNE_EVERY_MS = 60_000

/**
 * Rows handed back after a failed write, newest per key. Every row carries an absolute value, so
 * a fresh row for the same key replaces a retried one, and a retried one never overwrites it.
 */
class Retry<Row> {
  private readonly rows = new Map<string, Row>()
  constructor(private readonly keyOf: (r: Row) => string) {}

  get size(): number {
    return this.rows.size
  }

  keep(rows: Row[]): void {
    for (const r of rows) if (!this.rows.has(this.keyOf(r))) this.rows.set(this.keyOf(r), r)
  }

  /** Retried rows first, then the fresh ones, which win on the same key (upserts run in order). */
  merge(fresh: Row[]): Row[] {
    if (this.rows.size === 0) return fresh
    const out = [...this.rows.values(), ...fresh]
    this.rows.clear()
    return out
  }
}

export function windowsSource(windows: LimitWindows, clock: Clock): FlushSource<WindowRow> {
  const retry = new Retry<WindowRow>((r) => `${r.scope}\n${r.kind}\n${r.bucketMs}`)
  let prunedAtMs = clock.now()
  return {
    name: 'limit_windows',
    pending: () => windows.pending() + retry.size,
    drain: () => retry.merge(windows.drain()),
    async write(tx, rows) {
      const repo = createWindowsRepo(tx)
      await repo.save(rows)
      const now = clock.now()
      if (now - prunedAtMs >= PRUNE_EVERY_MS) {
        prunedAtMs = now
        await repo.prune(now)
      }
    },
    requeue: (rows) => retry.keep(rows),
  }
}

export function monthSource(monthly: MonthlySpend): FlushSource<MonthRow> {
  const retry = new Retry<MonthRow>((r) => `${r.accountId}\n${r.monthMs}`)
  return {
    name: 'month_spend',
    pending: () => monthly.pending() + retry.size,
    drain: () => retry.merge(monthly.drain()),
    write: (tx, rows) => createMonthSpendRepo(tx).save(rows),
    requeue: (rows) => retry.keep(rows),
  }
}
