// A separate xgate-like process for the multi-process test: at a given moment it fires its share
// of reservations (or money holds) at one Redis and prints how many were admitted.
// Args: url, what ('limits' | 'holds'), count, startAtMs.
import { createSharedHolds } from '../../src/cluster/holds'
import { createSharedLimits } from '../../src/cluster/limits'
import { openRedis } from '../../src/cluster/redis'
import { createCalendar } from '../../src/limits/daykey'

const [url, what, count, startAt] = process.argv.slice(2)
const redis = await openRedis({ url: url!, commandTimeoutMs: 5_000, prefix: 'mp:' })
const limits = createSharedLimits({ redis, calendar: createCalendar('UTC') })
const holds = createSharedHolds({ redis })
const T = Date.UTC(2026, 0, 15, 12, 0, 30)
const scopes = [
  { key: 'a:2', limits: { rpm: 50 } },
  { key: 'a:1', limits: { rpm: 1_000 }, label: 'parent account' },
]
await Bun.sleep(Math.max(0, Number(startAt) - Date.now()))
const results = await Promise.all(
  Array.from({ length: Number(count) }, (_, i) =>
    what === 'holds'
      ? holds.admit(9, 50_000_000, 100_000_000).then((r) => r.kind === 'held')
      : limits
          .reserve({ scopes, estTokens: 0, callId: `${process.pid}-${i}`, nowMs: T })
          .then((r) => r.ok),
  ),
)
console.log(String(results.filter(Boolean).length))
redis.close()
