// Multi-row INSERTs for the write-behind flush: one statement per 64 rows instead of one per row.
// Used by the repositories that write batches (usage records, usage ledger rows).
import type { Row, Sql } from './sql'

/**
 * Rows per multi-row INSERT: a flush writes a batch of thousands, and one statement per 64 rows
 * costs far less than one per row. The remainder goes 8 and then 1 at a time.
 */
export const CHUNKS = [64, 8, 1] as const

const texts = new Map<string, string>()

/** `head (row), (row), … tail` for n rows, built once per shape. */
function textOf(head: string, row: string, tail: string, n: number): string {
  const key = `${n}\u0000${head}\u0000${row}\u0000${tail}`
  let t = texts.get(key)
  if (t === undefined) {
    t = head + Array(n).fill(row).join(', ') + tail
    texts.set(key, t)
  }
  return t
}

/**
 * Runs the chunked insert over all rows; `bind` appends one row's values to `args`. With a
 * `RETURNING` tail, `returned` sees each row the statements gave back.
 */
export async function insertAll<T>(
  sql: Sql,
  head: string,
  row: string,
  tail: string,
  rows: readonly T[],
  bind: (args: unknown[], row: T) => void,
  returned?: (r: Row) => void,
): Promise<void> {
  let i = 0
  const args: unknown[] = []
  for (const n of CHUNKS) {
    const text = textOf(head, row, tail, n)
    for (; i + n <= rows.length; i += n) {
      args.length = 0
      for (let j = i; j < i + n; j++) bind(args, rows[j]!)
      if (returned) for (const r of await sql.all(text, args)) returned(r)
      else await sql.run(text, args)
    }
  }
}
