// What the dashboard reads of the shared limits (SPEC §11): a scope's window counts and a capped
// scope's live slots, as every node's calls left them in Redis.
import type { Calendar } from '../limits/daykey'
import type { WindowName } from '../limits/scope'
import { bucketKey, HOUR_MS, MINUTE_MS, NAMES, type Kind } from './limit-groups'
import type { Redis } from './redis'

export function createLimitReads(redis: Redis, calendar: Calendar) {
  const p = redis.prefix
  return {
    /** Calls holding a slot of a capped scope now, on every node (leases not yet run out). */
    async slotsInUse(scopeKey: string, nowMs: number): Promise<number> {
      return Number(await redis.send('ZCOUNT', [`${p}c:${scopeKey}`, `(${Math.floor(nowMs)}`, '+inf']))
    },

    /** Current count of each window of a scope (0 where nothing is counted). */
    async usage(scopeKey: string, nowMs: number): Promise<Record<WindowName, number>> {
      const out: Record<WindowName, number> = { rpm: 0, rph: 0, rpd: 0, tpm: 0, tph: 0, tpd: 0 }
      const now = Math.floor(nowMs)
      const day = calendar.day(now)
      const read = async (kind: Kind, start: number, span: number, sliding: boolean) => {
        const cur = (await redis.send('HMGET', [
          bucketKey(p, scopeKey, kind, start),
          'r',
          't',
        ])) as (string | null)[]
        let prev: (string | null)[] = [null, null]
        if (sliding)
          prev = (await redis.send('HMGET', [
            bucketKey(p, scopeKey, kind, start - span),
            'r',
            't',
          ])) as (string | null)[]
        const w = sliding ? Math.max(0, 1 - (now - start) / span) : 0
        for (const f of [0, 1] as const) {
          out[NAMES[kind][f]] = Math.ceil(Number(cur[f] ?? 0) + Number(prev[f] ?? 0) * w)
        }
      }
      await Promise.all([
        read('m', Math.floor(now / MINUTE_MS) * MINUTE_MS, MINUTE_MS, true),
        read('h', Math.floor(now / HOUR_MS) * HOUR_MS, HOUR_MS, true),
        read('d', day.startMs, day.endMs - day.startMs, false),
      ])
      return out
    },
  }
}
