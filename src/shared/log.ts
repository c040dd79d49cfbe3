// Structured JSON-line logging to stdout or a file. Lines are buffered for one tick and written
// with synchronous writes; reopen() flushes to the old file, swaps to the new one, then closes
// the old, so a logrotate rename loses no line.
import { closeSync, openSync, writeSync } from 'node:fs'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }
const MAX_BUFFER_BYTES = 64 * 1024

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  /** Writes everything buffered now. */
  flush(): void
  /** Opens the log file anew (logrotate); a no-op on stdout. */
  reopen(): void
  close(): void
}

export function createLogger(opts: { file?: string; level?: LogLevel; now?: () => number }): Logger {
  const min = RANK[opts.level ?? 'info']
  const now = opts.now ?? Date.now
  let fd = opts.file ? openSync(opts.file, 'a', 0o640) : 1
  let buffer: string[] = []
  let bytes = 0
  let scheduled = false

  const flush = () => {
    scheduled = false
    if (buffer.length === 0) return
    const text = buffer.join('')
    buffer = []
    bytes = 0
    try {
      writeSync(fd, text)
    } catch {
      // A full disk or closed stdout must never take the gateway down.
    }
  }

  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < min) return
    const line = JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...fields }) + '\n'
    buffer.push(line)
    bytes += line.length
    if (bytes >= MAX_BUFFER_BYTES) flush()
    else if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }

  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    flush,
    reopen() {
      if (!opts.file) return
      flush()
      const next = openSync(opts.file, 'a', 0o640)
      const old = fd
      fd = next
      closeSync(old)
    },
    close() {
      flush()
      if (opts.file) closeSync(fd)
    },
  }
}

/** A logger that keeps lines in memory, for tests. */
export function createMemoryLogger(): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const rec = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, ...fields })
  }
  return {
    lines,
    debug: rec('debug'),
    info: rec('info'),
    warn: rec('warn'),
    error: rec('error'),
    flush() {},
    reopen() {},
    close() {},
  }
}
