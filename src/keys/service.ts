// Decides upstream-key changes: validation, type inference, sealing secrets, the operation log,
// and keeping the in-memory pool equal to the store after every admin write (next request sees it).
import type { SqlDb } from '../db/sql'
import type { Account } from '../accounts/repo'
import type { OpLogRepo } from '../logs/repo'
import type { Clock } from '../shared/clock'
import { AppError } from '../shared/errors'
import { createPool, type Pool, type PoolKey } from './pool'
import { createKeysRepo, type KeyFields, type KeyRow, type KeysRepo } from './repo'
import { inferType, normalizeProvider, parseInitKeys, type KeyInput } from './input'
import { createVault, loadMasterKey, secretHash, secretTail, type Vault } from './vault'
import { keyView, matchesStatus, type KeyView } from './view'

export type { KeyInput } from './input'
export type { KeyView } from './view'

export type KeyFilter = { level?: number; provider?: string; status?: string }

export type KeysService = ReturnType<typeof createKeysService>

export function createKeysService(deps: {
  repo: KeysRepo
  vault: Vault
  pool: Pool
  oplog: OpLogRepo
  clock: Clock
  db: SqlDb
  /** Several nodes: an upstream key was added, changed or removed here (after commit). */
  changed?: (id: number) => void
}) {
  const { repo, vault, pool, oplog, clock } = deps
  const changed = (id: number) => deps.changed?.(id)

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

  const view = (k: PoolKey, row: KeyRow): KeyView => keyView(k, row, pool.stateOf(k), pool.unsaved(k.id))

  const find = async (ident: string): Promise<KeyRow> => {
    const row = /^\d+$/.test(ident) ? await repo.findById(Number(ident)) : await repo.findByName(ident)
    if (!row) throw new AppError('not_found', `no upstream key ${ident}`)
    return row
  }

  const viewOf = (row: KeyRow) => view(pool.get(row.id) ?? toPoolKey(row), row)

  const checkSecret = async (secret: string, selfId?: number) => {
    if (!secret.trim() || secret.length > 1024 || /\s/.test(secret)) {
      throw new AppError(
        'bad_request',
        'field SecretKey: must be 1-1024 characters without spaces',
        { param: 'SecretKey' },
      )
    }
    const owner = await repo.idOfSecretHash(secretHash(secret))
    if (owner !== null && owner !== selfId)
      throw new AppError('conflict', 'this upstream secret is already in the pool')
  }

  const checkName = async (name: string, selfId?: number) => {
    const other = await repo.findByName(name)
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
  const insert = async (input: KeyInput): Promise<PoolKey> => {
    const secret = input.SecretKey ?? ''
    await checkSecret(secret)
    if (input.Name !== undefined) await checkName(input.Name)
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
    const id = await deps.db.tx(async (tx) => {
      const r = createKeysRepo(tx)
      const newId = await r.insert(fields)
      if (input.Name === undefined) await r.setName(newId, `key-${newId}`)
      return newId
    })
    const key = toPoolKey((await repo.findById(id))!)
    pool.put(key)
    return key
  }

  return {
    /** Reads every key into the pool (start-up, or a node that missed changes). */
    async restore() {
      pool.load((await repo.all()).map((r) => toPoolKey(r, pool.get(r.id))))
    },
    /** Reads one key again (another node changed it); its calls in flight here stay counted. */
    async refresh(id: number) {
      const row = await repo.findById(id)
      if (row) pool.put(toPoolKey(row, pool.get(id)))
      else pool.remove(id)
    },
    async seed(raw: string) {
      for (const input of parseInitKeys(raw)) {
        if ((await repo.idOfSecretHash(secretHash(input.SecretKey!))) === null) await insert(input)
      }
    },
    async add(caller: Account, input: KeyInput): Promise<KeyView> {
      const key = await insert(input)
      changed(key.id)
      await record(caller, 'add_key', key)
      return viewOf((await repo.findById(key.id))!)
    },
    async update(caller: Account, ident: string, input: KeyInput): Promise<KeyView> {
      const row = await find(ident)
      const live = pool.get(row.id) ?? toPoolKey(row)
      if (input.SecretKey !== undefined) await checkSecret(input.SecretKey, row.id)
      if (input.Name !== undefined) await checkName(input.Name, row.id)
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
      await repo.update(row.id, next)
      const fresh = (await repo.findById(row.id))!
      const key = toPoolKey(fresh, live)
      pool.put(key)
      changed(key.id)
      await record(caller, 'update_key', key)
      return view(key, fresh)
    },
    async remove(caller: Account, ident: string): Promise<{ ID: number; Name: string }> {
      const row = await find(ident)
      const key = pool.get(row.id) ?? toPoolKey(row)
      await repo.remove(row.id)
      pool.remove(row.id)
      changed(row.id)
      await record(caller, 'delete_key', key)
      return { ID: row.id, Name: row.name }
    },
    get: async (ident: string): Promise<KeyView> => viewOf(await find(ident)),
    async list(filter: KeyFilter): Promise<KeyView[]> {
      return (await repo.all())
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

export type Keys = { repo: KeysRepo; pool: Pool; service: KeysService; vault: Vault }

/** Wires the key feature: vault from DATA_DIR, repo, pool (restored), INIT_KEYS on a new database. */
export async function createKeys(opts: {
  db: SqlDb
  dataDir: string
  clock: Clock
  oplog: OpLogRepo
  initKeys?: string
  emptyDatabase: boolean
  /** Several nodes: what this node changes in the pool, announced to the others. */
  announce?: { changed(id: number): void; state(key: PoolKey): void }
  /** Several nodes: how many share the keys (a key's Concurrency is split between them). */
  nodes?: number
}): Promise<Keys> {
  const repo = createKeysRepo(opts.db)
  const vault = createVault(() => loadMasterKey(opts.dataDir))
  const pool = createPool({
    clock: opts.clock,
    persist: (tx, rows) => createKeysRepo(tx).saveState(rows),
    onState: opts.announce?.state,
    nodes: opts.nodes,
  })
  const service = createKeysService({
    repo,
    vault,
    pool,
    oplog: opts.oplog,
    clock: opts.clock,
    db: opts.db,
    changed: opts.announce?.changed,
  })
  await service.restore()
  if (opts.initKeys && opts.emptyDatabase) {
    const inputs = parseInitKeys(opts.initKeys)
    if (inputs.length) await service.seed(opts.initKeys)
  }
  return { repo, pool, service, vault }
}
