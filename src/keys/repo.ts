// SQL for upstream keys (upstream_keys): the only module that speaks SQL about them. Secrets are
// stored sealed (vault.ts); live state and counters arrive through the write-behind flusher.
import type { Database } from 'bun:sqlite'

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

/** What the flusher persists of a key's life: state and counters, as absolute values. */
export type KeyStateRow = Pick<
  KeyRow,
  'id' | 'status' | 'disabledReason' | 'sleepUntilMs' | 'requests' | 'errors'
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

export function createKeysRepo(db: Database) {
  const all = db.prepare('SELECT * FROM upstream_keys ORDER BY id')
  const byId = db.prepare('SELECT * FROM upstream_keys WHERE id = ?')
  const byName = db.prepare('SELECT * FROM upstream_keys WHERE name = ?')
  const byHash = db.prepare('SELECT id FROM upstream_keys WHERE secret_hash = ?')
  const insert = db.prepare(`INSERT INTO upstream_keys
    (name, secret_enc, secret_hash, secret_tail, level, provider, type, status, weight,
     concurrency, disabled_reason, sleep_until, created_at, updated_at)
    VALUES ($name, $enc, $hash, $tail, $level, $provider, $type, $status, $weight,
     $concurrency, $reason, $sleep, $created, $updated) RETURNING id`)
  const update = db.prepare(`UPDATE upstream_keys SET name = $name, secret_enc = $enc,
    secret_hash = $hash, secret_tail = $tail, level = $level, provider = $provider, type = $type,
    status = $status, weight = $weight, concurrency = $concurrency, disabled_reason = $reason, sleep_until = $sleep,
    updated_at = $updated WHERE id = $id`)
  const setName = db.prepare('UPDATE upstream_keys SET name = ? WHERE id = ?')
  const remove = db.prepare('DELETE FROM upstream_keys WHERE id = ?')
  const saveState = db.prepare(`UPDATE upstream_keys SET status = $status,
    disabled_reason = $reason, sleep_until = $sleep, requests = $requests, errors = $errors
    WHERE id = $id`)

  const params = (f: KeyFields) => ({
    name: f.name,
    enc: f.secretEnc,
    hash: f.secretHash,
    tail: f.secretTail,
    level: f.level,
    provider: f.provider,
    type: f.type,
    status: f.status ? 1 : 0,
    weight: f.weight,
    concurrency: f.concurrency,
    reason: f.disabledReason,
    sleep: f.sleepUntilMs,
    updated: f.updatedAt,
  })

  return {
    all: (): KeyRow[] => (all.all() as Raw[]).map(fromRow),
    findById(id: number): KeyRow | null {
      const r = byId.get(id) as Raw | null
      return r ? fromRow(r) : null
    },
    findByName(name: string): KeyRow | null {
      const r = byName.get(name) as Raw | null
      return r ? fromRow(r) : null
    },
    idOfSecretHash(hash: string): number | null {
      const r = byHash.get(hash) as { id: number } | null
      return r ? r.id : null
    },
    insert(f: KeyFields): number {
      return (insert.get({ ...params(f), created: f.createdAt }) as { id: number }).id
    },
    setName(id: number, name: string): void {
      setName.run(name, id)
    },
    update(id: number, f: KeyFields): void {
      update.run({ ...params(f), id })
    },
    remove(id: number): boolean {
      return remove.run(id).changes > 0
    },
    saveState(rows: KeyStateRow[]): void {
      for (const r of rows) {
        saveState.run({
          id: r.id,
          status: r.status ? 1 : 0,
          reason: r.disabledReason,
          sleep: r.sleepUntilMs,
          requests: r.requests,
          errors: r.errors,
        })
      }
    },
  }
}
