// Multi-row INSERTs for the write-behind flush: one statement step per 64 rows instead of one per
// row. Used by the repositories that write batches (usage records, usage ledger rows).
import type { Database } from 'bun:sqlite'

/**
 * Rows per multi-row INSERT: a flush writes a batch of thousands, and one statement step per 64
 * rows costs far less than one per row. The remainder goes 8 and then 1 at a time.
 */
export const CHUNKS = [64, 8, 1] as const

export type Chunked = Array<{ n: number; stmt: ReturnType<Database['prepare']> }>

/** Prepared `INSERT … VALUES (row), (row), …` for each chunk size. */
export function chunked(db: Database, head: string, row: string) {
  return CHUNKS.map((n) => ({ n, stmt: db.prepare(head + Array(n).fill(row).join(', ')) }))
}

/** Runs the chunked insert over all rows; `bind` appends one row's values to `args`. */
export function insertAll<T>(
  stmts: Chunked,
  rows: readonly T[],
  bind: (args: unknown[], row: T) => void,
): void {
  let i = 0
  const args: unknown[] = []
  for (const { n, stmt } of stmts) {
    for (; i + n <= rows.length; i += n) {
      args.length = 0
      for (let j = i; j < i + n; j++) bind(args, rows[j]!)
      // One array, not a spread: 64 rows are over a thousand arguments.
      stmt.run(args as never)
    }
  }
}

