// Usage records of settled calls, held in memory until the write-behind flusher stores them with
// their daily aggregate (day in TZ, account × mapped model). A kill -9 loses at most one interval.
import type { FlushSource } from '../db/flusher'
import type { Calendar } from '../limits/daykey'
import type { BillingRepo, UsageRecord } from './repo'

export type UsageStore = FlushSource<UsageRecord> & { add(record: UsageRecord): void }

export function createUsageStore(opts: { repo: BillingRepo; calendar: Calendar }): UsageStore {
  let queue: UsageRecord[] = []
  return {
    name: 'usage',
    add(record) {
      queue.push(record)
    },
    pending: () => queue.length,
    drain() {
      const rows = queue
      queue = []
      return rows
    },
    write(rows) {
      for (const r of rows) {
        opts.repo.insertUsage(r)
        opts.repo.addDaily(opts.calendar.day(r.createdAt).key, r)
      }
    },
    requeue(rows) {
      queue = rows.concat(queue)
    },
  }
}
