// A digest of every row of every table of an xgate database, to prove that a refused request
// changed nothing (op_logs and the write-behind's tables included), and a readable difference.
import { dialect, type Sql } from '../../src/db/sql'
import { createHash } from 'node:crypto'

/** Per table: row count and a SHA-256 over its rows in a stable order. */
export type Snapshot = Map<string, { rows: number; hash: string }>

async function tablesOf(sql: Sql): Promise<string[]> {
  const rows = await sql.all<{ name: string }>(
    dialect(sql, {
      sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
      postgres: "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    }),
  )
  return rows.map((r) => r.name)
}

/** Blobs (Uint8Array) become hex so the row text is stable. */
function rowText(row: unknown): string {
  return JSON.stringify(row, (_k, v) =>
    v instanceof Uint8Array ? `blob:${Buffer.from(v).toString('hex')}` : v,
  )
}

/** Every table (SQLite's sqlite_sequence too); rows sorted by their text, so no ORDER BY is needed. */
export async function snapshot(sql: Sql): Promise<Snapshot> {
  const out: Snapshot = new Map()
  for (const name of await tablesOf(sql)) {
    const rows = (await sql.all(`SELECT * FROM "${name.replace(/"/g, '""')}"`)).map(rowText).sort()
    const hash = createHash('sha256')
    for (const r of rows) hash.update(r).update('\n')
    out.set(name, { rows: rows.length, hash: hash.digest('hex') })
  }
  return out
}

/** Tables whose rows differ, as `table: rows a → b`; empty when the snapshots are equal. */
export function diffSnapshots(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = []
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name)
    const y = b.get(name)
    if (x?.hash !== y?.hash) out.push(`${name}: rows ${x?.rows ?? '-'} → ${y?.rows ?? '-'}`)
  }
  return out
}
