// Decides upstream-key changes: validation, type inference, sealing secrets, the operation log,
// and keeping the in-memory pool equal to SQLite after every admin write (next request sees it).
import { type Db, withTx } from '../db/tx'
import type { Account } from '../accounts/repo'
import type { OpLogRepo } from '../logs/repo'
import type { Clock } from '../shared/clock'
import { AppError } from '../shared/errors'
import { createPool, type LiveState, type Pool, type PoolKey } from './pool'
import { createKeysRepo, type KeyFields, type KeyRow, type KeyType, type KeysRepo } from './repo'
import { inferType, normalizeProvider, parseInitKeys, type KeyInput } from './input'
import { createVault, loadMasterKey, maskSecret, secretHash, secretTail, type Vault } from './vault'

export type { KeyInput } from './input'

export type KeyFilter = { level?: number; provider?: string; status?: string }

/** A key as every read shows it: the secret masked, live state and counters included. */
export type KeyView = {
  ID: number
  Name: string
  SecretKey: string
  PartialKey: string
  Level: number
  Provider: string
  Type: KeyType
  Status: boolean
  Weight: number
  Concurrency: number
  InFlight: number
  State: LiveState['state']
  SleepUntil: string | null
  DisabledReason: string | null
  Requests: number
  Errors: number
  CreatedAt: string
  UpdatedAt: string
}

export type KeysService = ReturnType<typeof createKeysService>

export function createKeysService(deps: {
  repo: KeysRepo
  vault: Vault
  pool: Pool
  oplog: OpLogRepo
  clock: Clock
  db: Db
}) {
  const { repo, vault, pool, oplog, clock } = deps

  const toPoolKey = (r: KeyRow, prev?: PoolKey): PoolKey => ({
    id: r.id,
    name: r.name,
    secret: vault.decrypt(r.secretEnc),
    tail: r.secretTail,
    provider: r.provider,
    type: r.type,
    level: r.level,
    weight: r.weight,
    concurrency: r.concurrency,
    inFlight: prev?.inFlight ?? 0,
    status: r.status,
    disabledReason: r.disabledReason,
    sleepUntilMs: r.sleepUntilMs,
    requests: prev?.requests ?? r.requests,
    errors: prev?.errors ?? r.errors,
    current: 0,
  })

  const view = (k: PoolKey, row: KeyRow): KeyView => {
    const live = pool.stateOf(k)
    return {
      ID: k.id,
      Name: k.name,
      SecretKey: maskSecret(k.tail),
      PartialKey: k.tail,
      Level: k.level,
      Provider: k.provider,
      Type: k.type,
      Status: k.status,
      Weight: k.weight,
      Concurrency: k.concurrency,
      InFlight: k.inFlight,
      State: live.state,
      SleepUntil: live.state === 'sleeping' ? new Date(live.untilMs).toISOString() : null,
      DisabledReason: live.state === 'disabled' ? live.reason : null,
      Requests: k.requests,
      Errors: k.errors,
      CreatedAt: new Date(row.createdAt).toISOString(),
      UpdatedAt: new Date(row.updatedAt).toISOString(),
    }
  }

  const find = (ident: string): KeyRow => {
    const row = /^\d+$/.test(ident) ? repo.findById(Number(ident)) : repo.findByName(ident)
    if (!row) throw new AppError('not_found', `no upstream key ${ident}`)
    return row
  }

  const viewOf = (row: KeyRow) => view(pool.get(row.id) ?? toPoolKey(row), row)

  const checkSecret = (secret: string, selfId?: number) => {
    if (!secret.trim() || secret.length > 1024 || /\s/.test(secret)) {
      throw new AppError(
        'bad_request',
        'field SecretKey: must be 1-1024 characters without spaces',
        { param: 'SecretKey' },
      )
    }
    const owner = repo.idOfSecretHash(secretHash(secret))
    if (owner !== null && owner !== selfId)
      throw new AppError('conflict', 'this upstream secret is already in the pool')
  }

  const checkName = (name: string, selfId?: number) => {
    const other = repo.findByName(name)
    if (other && other.id !== selfId)
      throw new AppError('conflict', `an upstream key named ${name} exists already`)
    if (/^\d+$/.test(name))
      throw new AppError('bad_request', 'field Name: must not be all digits', { param: 'Name' })
  }

  const provider = (raw: string) => {
    const p = normalizeProvider(raw)
    if (!p)
      throw new AppError('bad_request', 'field Provider: must be an http(s) base URL', {
        param: 'Provider',
      })
    return p
  }

  const record = (caller: Account, action: 'add_key' | 'update_key' | 'delete_key', k: PoolKey) =>
    oplog.record(
      {
        action,
        operatorId: caller.id,
        operatorDna: caller.dna,
        details: {
          KeyID: k.id,
          Name: k.name,
          Level: k.level,
          Provider: k.provider,
          Type: k.type,
          Weight: k.weight,
          Concurrency: k.concurrency,
          Status: k.status,
        },
      },
      clock.now(),
    )

  /** Inserts one key without logging (also used for INIT_KEYS). */
  const insert = (input: KeyInput): PoolKey => {
    const secret = input.SecretKey ?? ''
    checkSecret(secret)
    if (input.Name !== undefined) checkName(input.Name)
    const prov = provider(input.Provider ?? '')
    const now = clock.now()
    const fields: KeyFields = {
      name: input.Name ?? `~${secretHash(secret).slice(0, 24)}`,
      secretEnc: vault.encrypt(secret),
      secretHash: secretHash(secret),
      secretTail: secretTail(secret),
      level: input.Level ?? 1,
      provider: prov,
      type: input.Type ?? inferType(prov),
      status: input.Status ?? true,
      weight: input.Weight ?? 1,
      concurrency: input.Concurrency ?? 0,
      disabledReason: null,
      sleepUntilMs: null,
      createdAt: now,
      updatedAt: now,
    }
    const id = withTx(deps.db, () => {
      const newId = repo.insert(fields)
      if (input.Name === undefined) repo.setName(newId, `key-${newId}`)
      return newId
    })
    const key = toPoolKey(repo.findById(id)!)
    pool.put(key)
    return key
  }

  return {
    /** Reads every key into the pool (start-up). */
    restore() {
      pool.load(repo.all().map((r) => toPoolKey(r)))
    },
    seed(raw: string) {
      for (const input of parseInitKeys(raw)) {
        if (repo.idOfSecretHash(secretHash(input.SecretKey!)) === null) insert(input)
      }
    },
    add(caller: Account, input: KeyInput): KeyView {
      const key = insert(input)
      record(caller, 'add_key', key)
      return viewOf(repo.findById(key.id)!)
    },
    update(caller: Account, ident: string, input: KeyInput): KeyView {
      const row = find(ident)
      const live = pool.get(row.id) ?? toPoolKey(row)
      if (input.SecretKey !== undefined) checkSecret(input.SecretKey, row.id)
      if (input.Name !== undefined) checkName(input.Name, row.id)
      const prov = input.Provider !== undefined ? provider(input.Provider) : row.provider
      const enabling = input.Status === true
      const secret = input.SecretKey
      const next: KeyFields = {
        name: input.Name ?? row.name,
        secretEnc: secret !== undefined ? vault.encrypt(secret) : row.secretEnc,
        secretHash: secret !== undefined ? secretHash(secret) : row.secretHash,
        secretTail: secret !== undefined ? secretTail(secret) : row.secretTail,
        level: input.Level ?? row.level,
        provider: prov,
        type: input.Type ?? (input.Provider !== undefined ? inferType(prov) : row.type),
        status: input.Status ?? row.status,
        weight: input.Weight ?? row.weight,
        concurrency: input.Concurrency ?? row.concurrency,
        // Switching a key on (or giving it a new secret) clears what the upstream said about it.
        disabledReason: enabling || secret !== undefined ? null : live.disabledReason,
        sleepUntilMs: enabling || secret !== undefined ? null : live.sleepUntilMs,
        createdAt: row.createdAt,
        updatedAt: clock.now(),
      }
      repo.update(row.id, next)
      const fresh = repo.findById(row.id)!
      const key = toPoolKey(fresh, live)
      pool.put(key)
      record(caller, 'update_key', key)
      return view(key, fresh)
    },
    remove(caller: Account, ident: string): { ID: number; Name: string } {
      const row = find(ident)
      const key = pool.get(row.id) ?? toPoolKey(row)
      repo.remove(row.id)
      pool.remove(row.id)
      record(caller, 'delete_key', key)
      return { ID: row.id, Name: row.name }
    },
    get: (ident: string): KeyView => viewOf(find(ident)),
    list(filter: KeyFilter): KeyView[] {
      return repo
        .all()
        .map(viewOf)
        .filter((v) => filter.level === undefined || v.Level === Number(filter.level))
        .filter(
          (v) =>
            !filter.provider || v.Provider.includes(filter.provider) || v.Type === filter.provider,
        )
        .filter((v) => matchesStatus(v, filter.status))
    },
  }
}

function matchesStatus(v: KeyView, status: string | undefined): boolean {
  if (status === undefined || status === '') return true
  if (/^(1|true|on)$/i.test(status)) return v.Status
  if (/^(0|false|off)$/i.test(status)) return !v.Status
  return v.State === status
}

export type Keys = { repo: KeysRepo; pool: Pool; service: KeysService; vault: Vault }

/** Wires the key feature: vault from DATA_DIR, repo, pool (restored), INIT_KEYS on a new database. */
export function createKeys(opts: {
  db: Db
  dataDir: string
  clock: Clock
  oplog: OpLogRepo
  initKeys?: string
  emptyDatabase: boolean
}): Keys {
  const repo = createKeysRepo(opts.db)
  const vault = createVault(() => loadMasterKey(opts.dataDir))
  const pool = createPool({ clock: opts.clock, persist: (rows) => repo.saveState(rows) })
  const service = createKeysService({
    repo,
    vault,
    pool,
    oplog: opts.oplog,
    clock: opts.clock,
    db: opts.db,
  })
  service.restore()
  if (opts.initKeys && opts.emptyDatabase) {
    const inputs = parseInitKeys(opts.initKeys)
    if (inputs.length) service.seed(opts.initKeys)
  }
  return { repo, pool, service, vault }
}
