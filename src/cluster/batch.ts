// Script calls sent together (SPEC §11): the settlements of the calls that end in the same turn
// of the event loop go to Redis as one script call, so under load a call costs one round trip
// before the upstream and a share of one after it. A lone call is sent at once (the next turn).
// Admissions are not batched: one script per call measured faster (a batch waits for its slowest
// part, and Redis spent more per call slicing a batch's arguments).
import { SETTLE } from './limit-scripts'
import type { Redis, Script } from './redis'

/** One call's part of a script call: its keys and arguments. */
export type Part = { keys: readonly string[]; args: readonly string[] }

/** Most calls one script call carries: its arguments stay small. */
const MAX_BATCH = 128

type Waiting<R> = { part: Part; done: (r: R) => void; fail: (err: unknown) => void }

function createBatcher<R>(
  redis: Redis,
  script: Script,
  /** The arguments before the parts' (their count first or last, as the script reads them). */
  head: (n: number) => string[],
  /** Each part's arguments as the script reads them. */
  argsOf: (p: Part) => readonly string[],
  /** Each call's answer out of the script's. */
  answers: (reply: unknown, n: number) => R[],
) {
  let queue: Waiting<R>[] = []
  let scheduled = false

  const send = async (batch: Waiting<R>[]) => {
    const keys: string[] = []
    const args = head(batch.length)
    for (const { part } of batch) {
      for (const k of part.keys) keys.push(k)
      for (const a of argsOf(part)) args.push(a)
    }
    try {
      const out = answers(await redis.run(script, keys, args), batch.length)
      batch.forEach((b, i) => b.done(out[i]!))
    } catch (err) {
      for (const b of batch) b.fail(err)
    }
  }

  const flush = () => {
    scheduled = false
    const all = queue
    queue = []
    for (let i = 0; i < all.length; i += MAX_BATCH) void send(all.slice(i, i + MAX_BATCH))
  }

  /** Resolves with this call's answer; rejects as the whole script call did. */
  return (part: Part): Promise<R> =>
    new Promise((done, fail) => {
      queue.push({ part, done, fail })
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    })
}

/** Settlements (SETTLE) of calls whose counters live `quietMs` more. */
export function settleBatcher(redis: Redis, quietMs: number) {
  return createBatcher<void>(
    redis,
    SETTLE,
    (n) => [String(quietMs), String(n)],
    (p) => p.args,
    (_reply, n) => new Array<void>(n),
  )
}
