// Retention of raw usage records: every hour, delete those older than USAGE_RETENTION_DAYS in
// batches (daily aggregates and their rollups are kept for good).
import type { Clock } from '../shared/clock'
import type { Logger } from '../shared/log'
import type { ReportsRepo } from './repo'

const DAY_MS = 86_400_000
const BATCH = 5_000
/** A run stops after this many batches and leaves the rest to the next run, to bound its pause. */
const MAX_BATCHES = 40

/** Deletes raw usage records older than `retentionDays`; returns how many went. */
export async function pruneUsage(repo: ReportsRepo, nowMs: number, retentionDays: number): Promise<number> {
  const before = nowMs - retentionDays * DAY_MS
  let total = 0
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await repo.pruneRecords(before, BATCH)
    total += n
    if (n < BATCH) break
  }
  return total
}

/** Starts the hourly pruning (first run soon after start); returns the function that stops it. */
export function startUsagePruning(d: {
  repo: ReportsRepo
  clock: Clock
  log: Logger
  retentionDays: number
  intervalMs?: number
}): () => void {
  const run = async () => {
    try {
      const n = await pruneUsage(d.repo, d.clock.now(), d.retentionDays)
      if (n > 0) d.log.info('pruned usage records', { deleted: n, retentionDays: d.retentionDays })
    } catch (e) {
      d.log.error('usage pruning failed', { error: (e as Error).message })
    }
  }
  const first = setTimeout(() => void run(), 1_000)
  const timer = setInterval(() => void run(), d.intervalMs ?? 3_600_000)
  first.unref?.()
  timer.unref?.()
  return () => {
    clearTimeout(first)
    clearInterval(timer)
  }
}
