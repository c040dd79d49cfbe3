// WAL checkpoints off the main thread. By default SQLite checkpoints inside the COMMIT that pushes
// the WAL past 1,000 pages: with the write-behind's batches that made one flush in a few take
// 15–30 ms of the main thread instead of ~10. While serving, the main connection stops doing that
// (wal_autocheckpoint=0) and a worker thread with its own connection runs a PASSIVE checkpoint
// every interval: it copies committed pages to the database file without blocking writers or
// readers, and the next writer starts the WAL over once everything was copied. Durability is
// unchanged (commits are in the WAL either way); closing the store still truncates the WAL. If the
// worker cannot start or dies, the main connection checkpoints on commit again.
import type { Database } from 'bun:sqlite'
import type { Logger } from '../shared/log'

/** SQLite's own default, restored when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000
const START_TIMEOUT_MS = 5_000
const STOP_TIMEOUT_MS = 2_000

/** The worker's code, run from a Blob so the single executable needs no extra entry point. */
const WORKER_SOURCE = `
import { Database } from 'bun:sqlite'
let db = null
let timer = null
const tick = () => {
  try {
    const r = db.query('PRAGMA wal_checkpoint(PASSIVE)').get()
    self.postMessage({ type: 'checkpoint', busy: r.busy, log: r.log, checkpointed: r.checkpointed })
  } catch (e) {
    self.postMessage({ type: 'error', message: String(e && e.message || e) })
  }
}
self.onmessage = (e) => {
  const m = e.data
  if (m.type === 'start') {
    try {
      db = new Database(m.path, { readwrite: true, create: false })
      db.exec('PRAGMA busy_timeout=5000')
      timer = setInterval(tick, m.intervalMs)
      self.postMessage({ type: 'ready' })
    } catch (e) {
      self.postMessage({ type: 'failed', message: String(e && e.message || e) })
    }
  } else if (m.type === 'stop') {
    clearInterval(timer)
    try { db && db.close() } catch {}
    self.postMessage({ type: 'stopped' })
  }
}
`

export type Checkpointer = {
  /** PASSIVE checkpoints the worker has run. */
  readonly checkpoints: number
  /** Stops the worker and gives checkpointing back to the main connection. */
  stop(): Promise<void>
}

type Message =
  | { type: 'ready' | 'stopped' }
  | { type: 'failed' | 'error'; message: string }
  | { type: 'checkpoint'; busy: number; log: number; checkpointed: number }

/**
 * Starts the checkpoint worker for the database file at `path`, opened by `db` in WAL mode.
 * Resolves to null (checkpoints stay on commit) when the worker cannot start.
 */
export async function startCheckpointer(
  db: Database,
  path: string,
  intervalMs: number,
  log: Logger,
): Promise<Checkpointer | null> {
  let worker: Worker
  try {
    worker = new Worker(URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' })))
  } catch (e) {
    log.warn('checkpoint worker not started; checkpoints stay on commit', { error: String(e) })
    return null
  }
  let checkpoints = 0
  let running = false
  let onStopped: (() => void) | null = null
  const giveBack = () => {
    if (!running) return
    running = false
    try {
      db.exec(`PRAGMA wal_autocheckpoint=${AUTOCHECKPOINT_PAGES}`)
    } catch {
      // The store is closing: its close() checkpoints anyway.
    }
  }
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS)
    worker.onmessage = (e: MessageEvent<Message>) => {
      const m = e.data
      if (m.type === 'ready') {
        clearTimeout(timer)
        resolve(true)
      } else if (m.type === 'failed') {
        clearTimeout(timer)
        log.warn('checkpoint worker failed to open the database', { error: m.message })
        resolve(false)
      } else if (m.type === 'checkpoint') checkpoints++
      else if (m.type === 'error') log.warn('WAL checkpoint failed', { error: m.message })
      else if (m.type === 'stopped') onStopped?.()
    }
    worker.onerror = (e) => {
      clearTimeout(timer)
      log.error('checkpoint worker died; checkpoints back on commit', { error: e.message })
      giveBack()
      resolve(false)
    }
  })
  worker.postMessage({ type: 'start', path, intervalMs })
  if (!(await ready)) {
    worker.terminate()
    return null
  }
  db.exec('PRAGMA wal_autocheckpoint=0')
  running = true
  // The calls in flight keep the process alive; the checkpoint worker must not.
  ;(worker as Worker & { unref(): void }).unref()
  return {
    get checkpoints() {
      return checkpoints
    },
    async stop() {
      giveBack()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_TIMEOUT_MS)
        onStopped = () => {
          clearTimeout(timer)
          resolve()
        }
        worker.postMessage({ type: 'stop' })
      })
      worker.terminate()
    },
  }
}
