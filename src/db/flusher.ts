// The write-behind flusher: in-memory stores register here; every FLUSH_INTERVAL_MS (or sooner,
// when a store's backlog passes the bound) their pending changes are written in ONE immediate
// transaction. Writing is synchronous (bun:sqlite), so flushNow() can run inside an admin write
// to make memory and disk agree before the admin change is applied.
import type { Database } from 'bun:sqlite'
import type { Logger } from '../shared/log'

/** What every write-behind store provides. drain() hands over and forgets its pending changes. */
export interface FlushSource<Row = unknown> {
  readonly name: string
  pending(): number
  drain(): Row[]
  /** Persists rows; runs inside the flusher's transaction, must be synchronous. */
  write(rows: Row[]): void
  /** Takes rows back after a failed transaction so nothing is lost. */
  requeue?(rows: Row[]): void
}

export type FlushStats = { flushes: number; rows: number; failures: number; lastFlushAtMs: number; lastDurationMs: number }

export interface Flusher {
  register<Row>(source: FlushSource<Row>): void
  /** Tell the flusher a store grew; flushes early when the backlog passes the bound. */
  poke(): void
  flushNow(): number
  start(): void
  stop(): void
  pending(): number
  stats(): FlushStats
}

export function createFlusher(opts: {
  db: Database
  intervalMs: number
  maxRows: number
  log: Logger
  now?: () => number
}): Flusher {
  const sources: FlushSource[] = []
  const now = opts.now ?? Date.now
  let timer: ReturnType<typeof setInterval> | null = null
  let early: ReturnType<typeof setTimeout> | null = null
  const stats: FlushStats = { flushes: 0, rows: 0, failures: 0, lastFlushAtMs: 0, lastDurationMs: 0 }

  const pending = () => sources.reduce((n, s) => n + s.pending(), 0)
  const pokeEvery = Math.max(1, Math.floor(opts.maxRows / 64))
  let pokes = 0

  const flushNow = (): number => {
    if (early) {
      clearTimeout(early)
      early = null
    }
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
      opts.db
        .transaction(() => {
          for (const [s, rows] of batches) {
            s.write(rows)
            count += rows.length
          }
        })
        .immediate()
    } catch (e) {
      stats.failures++
      opts.log.error('flush failed; changes kept for the next try', { error: (e as Error).message })
      for (const [s, rows] of batches) s.requeue?.(rows)
      return 0
    }
    stats.flushes++
    stats.rows += count
    stats.lastFlushAtMs = now()
    stats.lastDurationMs = stats.lastFlushAtMs - started
    return count
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
      if (!early && timer && pending() >= opts.maxRows) early = setTimeout(flushNow, 0)
    },
    flushNow,
    start() {
      if (!timer) timer = setInterval(flushNow, opts.intervalMs)
    },
    stop() {
      if (timer) clearInterval(timer)
      if (early) clearTimeout(early)
      timer = null
      early = null
    },
    pending,
    stats: () => ({ ...stats }),
  }
}
