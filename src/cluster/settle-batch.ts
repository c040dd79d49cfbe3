// Settlements sent together (SPEC §11): calls that end in the same turn of the event loop are
// settled by one script call, so under load a call costs one round trip before the upstream and a
// share of one after it. A lone call is sent at once (the next turn), never held back longer.
import { SETTLE } from './limit-scripts'
import type { Redis } from './redis'

/** One call's settlement: its keys and its seven arguments (see SETTLE). */
export type SettleEntry = { keys: readonly string[]; args: readonly string[] }

/** Most calls one script settles: its arguments stay small. */
const MAX_BATCH = 128

export function createSettleBatcher(redis: Redis, quietMs: number) {
  let queue: Array<{ e: SettleEntry; done: () => void; fail: (err: unknown) => void }> = []
  let scheduled = false

  const send = async (batch: typeof queue) => {
    const keys: string[] = []
    const args: string[] = [String(quietMs), String(batch.length)]
    for (const { e } of batch) {
      for (const k of e.keys) keys.push(k)
      for (const a of e.args) args.push(a)
    }
    try {
      await redis.run(SETTLE, keys, args)
      for (const b of batch) b.done()
    } catch (err) {
      for (const b of batch) b.fail(err)
    }
  }

  const flush = () => {
    scheduled = false
    while (queue.length) {
      const batch = queue.slice(0, MAX_BATCH)
      queue = queue.slice(MAX_BATCH)
      void send(batch)
    }
  }

  return {
    /** Resolves once Redis has applied the settlement; rejects as the whole batch's script did. */
    settle(e: SettleEntry): Promise<void> {
      return new Promise((done, fail) => {
        queue.push({ e, done, fail })
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    },
  }
}
