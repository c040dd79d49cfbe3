// The write-behind flusher: in-memory stores register here; every FLUSH_INTERVAL_MS (or sooner,
// when a store's backlog passes the bound) their pending changes are written in ONE transaction,
// in registration order. One flush runs at a time: a flushNow() during a flush waits for it and
// then writes what is pending, so an admin write that flushes first sees every change made
// before it on disk. A failed transaction hands the rows back to their stores (nothing lost); a
// retried batch is written once, because usage rows are inserted by their unique request id and
// balances move only by the rows actually inserted (billing/usage.ts, wallet/ledger.ts).
import type { Logger } from '../shared/log'
import type { SqlDb, Tx } from './sql'

/** What the sources of one flush share: the request ids whose usage rows were inserted. */
export type FlushBatch = { inserted: Set<string> | null }

/** What every write-behind store provides. drain() hands over and forgets its pending changes. */
export interface FlushSource<Row = unknown> {
  readonly name: string
  pending(): number
  drain(): Row[]
  /** Persists rows inside the flusher's transaction (only `tx` may be used). */
  write(tx: Tx, rows: Row[], batch: FlushBatch): Promise<void>
  /** Takes rows back after a failed transaction so nothing is lost. */
  requeue?(rows: Row[]): void
}

export type FlushStats = {
  flushes: number
  rows: number
  failures: number
  /** Failed flushes since the last one that succeeded (0 while the store answers). */
  failingFor: number
  lastError: string | null
  lastFlushAtMs: number
  lastDurationMs: number
}

export interface Flusher {
  register<Row>(source: FlushSource<Row>): void
  /** Tell the flusher a store grew; flushes early when the backlog passes the bound. */
  poke(): void
  /** Writes everything pending now; resolves with the number of rows written. */
  flushNow(): Promise<number>
  start(): void
  stop(): void
  pending(): number
  /**
   * True while the store is failing and the changes waiting for it have reached `maxBacklog`:
   * new calls would make changes that could not be kept (checked per call; cheap while healthy).
   */
  full(): boolean
  stats(): FlushStats
  /** Runs after each committed flush with what each source wrote (several nodes announce it). */
  afterCommit(fn: (source: string, rows: readonly unknown[]) => void): void
}

export function createFlusher(opts: {
  db: SqlDb
  intervalMs: number
  maxRows: number
  /** Changes held while flushes fail before full() says so (WRITE_BEHIND_MAX_ROWS). */
  maxBacklog?: number
  log: Logger
  now?: () => number
}): Flusher {
  const sources: FlushSource[] = []
  const committed: Array<(source: string, rows: readonly unknown[]) => void> = []
  const now = opts.now ?? Date.now
  let timer: ReturnType<typeof setInterval> | null = null
  let early: ReturnType<typeof setTimeout> | null = null
  let running: Promise<number> | null = null
  const stats: FlushStats = {
    flushes: 0,
    rows: 0,
    failures: 0,
    failingFor: 0,
    lastError: null,
    lastFlushAtMs: 0,
    lastDurationMs: 0,
  }
  const maxBacklog = opts.maxBacklog ?? Number.POSITIVE_INFINITY

  const pending = () => sources.reduce((n, s) => n + s.pending(), 0)
  const pokeEvery = Math.max(1, Math.floor(opts.maxRows / 64))
  let pokes = 0

  const once = async (): Promise<number> => {
    const batches: Array<[FlushSource, unknown[]]> = []
    for (const s of sources) {
      if (s.pending() === 0) continue
      const rows = s.drain()
      if (rows.length) batches.push([s, rows])
    }
    if (batches.length === 0) return 0
    const started = now()
    let count = 0
    try {
      await opts.db.tx(async (tx) => {
        const batch: FlushBatch = { inserted: null }
        for (const [s, rows] of batches) {
          await s.write(tx, rows, batch)
          count += rows.length
        }
      })
    } catch (e) {
      stats.failures++
      stats.failingFor++
      stats.lastError = (e as Error).message
      opts.log.error('flush failed; changes kept for the next try', { error: (e as Error).message })
      for (const [s, rows] of batches) s.requeue?.(rows)
      return 0
    }
    stats.flushes++
    stats.failingFor = 0
    stats.lastError = null
    stats.rows += count
    stats.lastFlushAtMs = now()
    stats.lastDurationMs = stats.lastFlushAtMs - started
    for (const fn of committed) {
      for (const [s, rows] of batches) {
        try {
          fn(s.name, rows)
        } catch (e) {
          opts.log.error('after-flush handler failed', { error: (e as Error).message })
        }
      }
    }
    return count
  }

  const flushNow = async (): Promise<number> => {
    if (early) {
      clearTimeout(early)
      early = null
    }
    while (running) await running.catch(() => 0)
    running = once()
    try {
      return await running
    } finally {
      running = null
    }
  }
  const tick = () => {
    if (!running) void flushNow()
  }

  return {
    register(source) {
      sources.push(source as FlushSource)
    },
    poke() {
      // Counting every source's backlog on each call adds up: it is looked at every
      // maxRows/64 pokes, so the bound may be passed by about 3 % before the early flush.
      if (++pokes < pokeEvery) return
      pokes = 0
      if (!early && timer && pending() >= opts.maxRows) early = setTimeout(tick, 0)
    },
    flushNow,
    start() {
      if (!timer) timer = setInterval(tick, opts.intervalMs)
    },
    stop() {
      if (timer) clearInterval(timer)
      if (early) clearTimeout(early)
      timer = null
      early = null
    },
    pending,
    full: () => stats.failingFor > 0 && pending() >= maxBacklog,
    stats: () => ({ ...stats }),
    afterCommit: (fn) => void committed.push(fn),
  }
}
