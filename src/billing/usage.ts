// Usage records of settled calls, held in memory until the write-behind flusher stores them with
// their daily aggregate (day in TZ, account × mapped model). A kill -9 loses at most one interval.
import type { FlushSource } from '../db/flusher'
import type { Calendar } from '../limits/daykey'
import { createBillingRepo, type DailyRow, type UsageRecord } from './repo'

export type UsageStore = FlushSource<UsageRecord> & { add(record: UsageRecord): void }

export function createUsageStore(opts: { calendar: Calendar }): UsageStore {
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
    async write(tx, rows, batch) {
      const repo = createBillingRepo(tx)
      // Only the rows inserted now count: a batch retried after an unanswered commit adds nothing.
      const inserted = await repo.insertUsage(rows)
      batch.inserted = inserted
      // One upsert per (day, account, model) of the batch, not one per call.
      const daily = new Map<string, DailyRow>()
      // Runs of records of one account and model (the usual batch) skip building the map key.
      let last: DailyRow | undefined
      // Each inserted id once: a repeated id in one batch is the first row's (the one stored).
      const counted = new Set<string>()
      for (const r of rows) {
        if (!inserted.has(r.requestId) || counted.has(r.requestId)) continue
        counted.add(r.requestId)
        const day = opts.calendar.day(r.createdAt).key
        let d: DailyRow | undefined
        if (
          last &&
          last.day === day &&
          last.accountId === r.accountId &&
          last.model === r.mappedModel
        )
          d = last
        else {
          const k = `${day}\u0000${r.accountId}\u0000${r.mappedModel}`
          d = daily.get(k)
          if (!d) {
            d = {
              day,
              accountId: r.accountId,
              model: r.mappedModel,
              requests: 0,
              promptTokens: 0,
              completionTokens: 0,
              cachedTokens: 0,
              cacheWriteTokens: 0,
              costNano: 0,
            }
            daily.set(k, d)
          }
          last = d
        }
        d.requests++
        d.promptTokens += r.promptTokens
        d.completionTokens += r.completionTokens
        d.cachedTokens += r.cachedTokens
        d.cacheWriteTokens += r.cacheWriteTokens
        d.costNano += r.costNano
      }
      await repo.addDaily([...daily.values()])
    },
    requeue(rows) {
      queue = rows.concat(queue)
    },
  }
}
