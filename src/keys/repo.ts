// SQL for upstream keys (upstream_keys): the only module that speaks SQL about them. Secrets are
// stored sealed (vault.ts); live state and counters arrive through the write-behind flusher.
import type { Sql } from '../db/sql'

export type KeyType = 'openai' | 'anthropic'

export type KeyRow = {
  id: number
  name: string
  secretEnc: string
  secretHash: string
  secretTail: string
  level: number
  provider: string
  type: KeyType
  status: boolean
  weight: number
  /** Calls in flight on this key at once; 0 = unlimited. */
  concurrency: number
  disabledReason: string | null
  sleepUntilMs: number | null
  requests: number
  errors: number
  createdAt: number
  updatedAt: number
}

/** What the flusher persists of a key's life: its state, and the requests and errors since the last write. */
export type KeyStateRow = Pick<
  KeyRow,
  'id' | 'disabledReason' | 'sleepUntilMs' | 'requests' | 'errors'
>

export type KeyFields = Omit<KeyRow, 'id' | 'requests' | 'errors'>

type Raw = Record<string, unknown>

function fromRow(r: Raw): KeyRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    secretEnc: String(r.secret_enc),
    secretHash: String(r.secret_hash),
    secretTail: String(r.secret_tail),
    level: Number(r.level),
    provider: String(r.provider),
    type: r.type === 'anthropic' ? 'anthropic' : 'openai',
    status: Number(r.status) === 1,
    weight: Number(r.weight),
    concurrency: Number(r.concurrency ?? 0),
    disabledReason: r.disabled_reason === null ? null : String(r.disabled_reason),
    sleepUntilMs: r.sleep_until === null ? null : Number(r.sleep_until),
    requests: Number(r.requests),
    errors: Number(r.errors),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  }
}

export type KeysRepo = ReturnType<typeof createKeysRepo>

const INSERT = `INSERT INTO upstream_keys
  (name, secret_enc, secret_hash, secret_tail, level, provider, type, status, weight,
   concurrency, disabled_reason, sleep_until, updated_at, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
const UPDATE = `UPDATE upstream_keys SET name = ?, secret_enc = ?, secret_hash = ?, secret_tail = ?,
  level = ?, provider = ?, type = ?, status = ?, weight = ?, concurrency = ?, disabled_reason = ?,
  sleep_until = ?, updated_at = ? WHERE id = ?`
// Status is the operator's (admin writes); requests and errors arrive as counts since the last
// write, added up, so every node's calls count.
const SAVE_STATE = `UPDATE upstream_keys SET disabled_reason = ?, sleep_until = ?,
  requests = requests + ?, errors = errors + ? WHERE id = ?`

/** The values of INSERT and UPDATE, in their column order (up to updated_at). */
const values = (f: KeyFields) => [
  f.name,
  f.secretEnc,
  f.secretHash,
  f.secretTail,
  f.level,
  f.provider,
  f.type,
  f.status ? 1 : 0,
  f.weight,
  f.concurrency,
  f.disabledReason,
  f.sleepUntilMs,
  f.updatedAt,
]

export function createKeysRepo(sql: Sql) {
  const one = async (text: string, v: unknown): Promise<KeyRow | null> => {
    const r = await sql.get<Raw>(text, [v])
    return r ? fromRow(r) : null
  }
  return {
    all: async (): Promise<KeyRow[]> => (await sql.all<Raw>('SELECT * FROM upstream_keys ORDER BY id')).map(fromRow),
    findById: (id: number) => one('SELECT * FROM upstream_keys WHERE id = ?', id),
    findByName: (name: string) => one('SELECT * FROM upstream_keys WHERE name = ?', name),
    async idOfSecretHash(hash: string): Promise<number | null> {
      const r = await sql.get<{ id: number }>('SELECT id FROM upstream_keys WHERE secret_hash = ?', [hash])
      return r ? r.id : null
    },
    async insert(f: KeyFields): Promise<number> {
      return (await sql.get<{ id: number }>(INSERT, [...values(f), f.createdAt]))!.id
    },
    async setName(id: number, name: string): Promise<void> {
      await sql.run('UPDATE upstream_keys SET name = ? WHERE id = ?', [name, id])
    },
    async update(id: number, f: KeyFields): Promise<void> {
      await sql.run(UPDATE, [...values(f), id])
    },
    async remove(id: number): Promise<boolean> {
      return (await sql.run('DELETE FROM upstream_keys WHERE id = ?', [id])) > 0
    },
    async saveState(rows: KeyStateRow[]): Promise<void> {
      for (const r of rows)
        await sql.run(SAVE_STATE, [r.disabledReason, r.sleepUntilMs, r.requests, r.errors, r.id])
    },
  }
}
