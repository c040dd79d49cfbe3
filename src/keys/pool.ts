// The upstream key pool in memory: keys grouped by (level, type), picked by smooth weighted
// round-robin, skipping sleeping and disabled keys. Live state and counters change here on the
// hot path and reach SQLite through the write-behind flusher (a FlushSource of absolute values).
import type { FlushSource } from '../db/flusher'
import type { Tx } from '../db/sql'
import type { Clock } from '../shared/clock'
import type { KeyStateRow, KeyType } from './repo'

export type PoolKey = {
  readonly id: number
  name: string
  /** The plaintext secret, only ever sent upstream. */
  secret: string
  tail: string
  /** Base URL without a trailing slash; the upstream URL is provider + path. */
  provider: string
  type: KeyType
  level: number
  weight: number
  /** Calls in flight at once on this key; 0 = unlimited. */
  concurrency: number
  /** Calls on this key now (picked, not yet finished). */
  inFlight: number
  /** The operator's switch (Status). */
  status: boolean
  /** Set when an upstream refused the key (401/403) or the operator disabled it. */
  disabledReason: string | null
  sleepUntilMs: number | null
  requests: number
  errors: number
  /** Smooth weighted round-robin credit. */
  current: number
}

export type LiveState =
  | { state: 'active' }
  | { state: 'sleeping'; untilMs: number }
  | { state: 'disabled'; reason: string }

export type Pool = FlushSource<KeyStateRow> & {
  /** Replaces every key (start-up restore). */
  load(keys: PoolKey[]): void
  /** Adds or replaces one key; takes effect on the next pick. */
  put(key: PoolKey): void
  remove(id: number): void
  get(id: number): PoolKey | undefined
  all(): PoolKey[]
  /**
   * The next usable key of the group not in `exclude` and below its Concurrency, counted as one
   * request and one call in flight (give it back with done()); null if none.
   */
  pick(level: number, type: KeyType, exclude?: ReadonlySet<number>): PoolKey | null
  /** The call on a picked key ended (answer relayed, refused or broken off). */
  done(key: PoolKey): void
  /** True when the group has usable keys and every one of them is at its Concurrency. */
  busy(level: number, type: KeyType): boolean
  /** True when the group has a key that is not disabled (sleeping ones wake up). */
  serves(level: number, type: KeyType): boolean
  failed(key: PoolKey): void
  sleep(key: PoolKey, ms: number): void
  disable(key: PoolKey, reason: string): void
  stateOf(key: PoolKey): LiveState
  /** Another node saw the key sleep or fail: its state here becomes that (nothing announced). */
  applyState(id: number, state: SharedKeyState): void
  /** Requests and errors counted here and not yet written (the store holds the rest). */
  unsaved(id: number): { requests: number; errors: number }
}

/** What one node tells the others when an upstream puts a key to sleep or refuses it. */
export type SharedKeyState = { sleepUntilMs: number | null; disabledReason: string | null }

/** A number per (level, type): picking builds no string. */
const groupOf = (level: number, type: KeyType) => level * 2 + (type === 'anthropic' ? 1 : 0)

export function createPool(opts: {
  clock: Clock
  persist: (tx: Tx, rows: KeyStateRow[]) => Promise<void>
  /** Several nodes: a key slept or disabled here is announced to the others. */
  onState?: (key: PoolKey) => void
  /**
   * Nodes sharing the keys (NODES): each lets a key carry its Concurrency ÷ nodes calls at once
   * (at least 1), so the provider never sees more than the key's Concurrency from the gateway.
   */
  nodes?: number
}): Pool {
  const nodes = Math.max(1, Math.floor(opts.nodes ?? 1))
  const byId = new Map<number, PoolKey>()
  let groups = new Map<number, PoolKey[]>()
  const dirty = new Set<number>()
  // Per key, the requests and errors already handed to the write-behind: it writes what was
  // counted since, added to the stored totals, so several nodes' counts add up.
  const saved = new Map<number, { requests: number; errors: number }>()
  const know = (k: PoolKey) => {
    if (!saved.has(k.id)) saved.set(k.id, { requests: k.requests, errors: k.errors })
  }

  const regroup = () => {
    const next = new Map<number, PoolKey[]>()
    for (const k of byId.values()) {
      const g = groupOf(k.level, k.type)
      const list = next.get(g)
      if (list) list.push(k)
      else next.set(g, [k])
    }
    groups = next
  }

  const usable = (k: PoolKey, nowMs: number) =>
    k.status && k.disabledReason === null && (k.sleepUntilMs === null || k.sleepUntilMs <= nowMs)
  const full = (k: PoolKey) =>
    k.concurrency > 0 && k.inFlight >= (nodes === 1 ? k.concurrency : Math.max(1, Math.floor(k.concurrency / nodes)))

  return {
    name: 'upstream-keys',
    load(keys) {
      byId.clear()
      for (const k of keys) {
        byId.set(k.id, k)
        know(k)
      }
      for (const id of saved.keys()) if (!byId.has(id)) saved.delete(id)
      regroup()
    },
    put(key) {
      byId.set(key.id, key)
      know(key)
      regroup()
    },
    remove(id) {
      byId.delete(id)
      dirty.delete(id)
      saved.delete(id)
      regroup()
    },
    get: (id) => byId.get(id),
    all: () => [...byId.values()].sort((a, b) => a.id - b.id),
    pick(level, type, exclude) {
      const list = groups.get(groupOf(level, type))
      if (!list) return null
      const nowMs = opts.clock.now()
      let best: PoolKey | null = null
      let total = 0
      for (const k of list) {
        if (!usable(k, nowMs) || full(k) || exclude?.has(k.id)) continue
        k.current += k.weight
        total += k.weight
        if (!best || k.current > best.current) best = k
      }
      if (!best) return null
      best.current -= total
      best.requests++
      best.inFlight++
      dirty.add(best.id)
      return best
    },
    done(key) {
      // An edited key is a new object that took over the count: give the call back to it.
      const k = byId.get(key.id) ?? key
      if (k.inFlight > 0) k.inFlight--
    },
    busy(level, type) {
      const list = groups.get(groupOf(level, type))
      if (!list) return false
      const nowMs = opts.clock.now()
      let any = false
      for (const k of list) {
        if (!usable(k, nowMs)) continue
        if (!full(k)) return false
        any = true
      }
      return any
    },
    serves(level, type) {
      const list = groups.get(groupOf(level, type))
      return !!list && list.some((k) => k.status && k.disabledReason === null)
    },
    failed(key) {
      key.errors++
      dirty.add(key.id)
    },
    sleep(key, ms) {
      key.sleepUntilMs = opts.clock.now() + ms
      dirty.add(key.id)
      opts.onState?.(key)
    },
    disable(key, reason) {
      key.disabledReason = reason
      dirty.add(key.id)
      opts.onState?.(key)
    },
    applyState(id, state) {
      const k = byId.get(id)
      if (!k) return
      // Written behind by the node that saw it; this one only serves by it.
      k.sleepUntilMs = state.sleepUntilMs
      k.disabledReason = state.disabledReason
    },
    stateOf(key) {
      if (!key.status)
        return { state: 'disabled', reason: key.disabledReason ?? 'disabled by the operator' }
      if (key.disabledReason !== null) return { state: 'disabled', reason: key.disabledReason }
      if (key.sleepUntilMs !== null && key.sleepUntilMs > opts.clock.now()) {
        return { state: 'sleeping', untilMs: key.sleepUntilMs }
      }
      return { state: 'active' }
    },
    unsaved(id) {
      const k = byId.get(id)
      const s = saved.get(id)
      if (!k || !s) return { requests: 0, errors: 0 }
      return { requests: k.requests - s.requests, errors: k.errors - s.errors }
    },
    pending: () => dirty.size,
    /** Rows of the keys whose state changed: their live state, and the counts since the last drain. */
    drain() {
      const rows: KeyStateRow[] = []
      for (const id of dirty) {
        const k = byId.get(id)
        const s = saved.get(id)
        if (!k || !s) continue
        rows.push({
          id,
          disabledReason: k.disabledReason,
          sleepUntilMs: k.sleepUntilMs,
          requests: k.requests - s.requests,
          errors: k.errors - s.errors,
        })
        s.requests = k.requests
        s.errors = k.errors
      }
      dirty.clear()
      return rows
    },
    write: (tx, rows) => opts.persist(tx, rows),
    requeue(rows) {
      for (const r of rows) {
        const s = saved.get(r.id)
        if (!s) continue
        // Not written: counted again by the next drain.
        s.requests -= r.requests
        s.errors -= r.errors
        dirty.add(r.id)
      }
    },
  }
}
