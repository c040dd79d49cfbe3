import { openTestStore } from '../helpers/engine'
import { describe, expect, test } from 'bun:test'
import { createPool, type PoolKey } from '../../src/keys/pool'
import { createVault, secretTail } from '../../src/keys/vault'
import { randomBytes } from 'node:crypto'
import { createFakeClock } from '../../src/shared/clock'
import { createKeysRepo, type KeyStateRow } from '../../src/keys/repo'

const key = (id: number, over: Partial<PoolKey> = {}): PoolKey => ({
  id,
  name: `k${id}`,
  secret: `s${id}`,
  tail: '',
  provider: 'http://127.0.0.1:1',
  type: 'openai',
  level: 1,
  weight: 1,
  concurrency: 0,
  inFlight: 0,
  status: true,
  disabledReason: null,
  sleepUntilMs: null,
  requests: 0,
  errors: 0,
  current: 0,
  ...over,
})

describe('pool', () => {
  test('smooth weighted round-robin follows the weights and interleaves', () => {
    const pool = createPool({ clock: createFakeClock(), persist: async () => {} })
    pool.load([key(1, { weight: 3 }), key(2, { weight: 1 }), key(3, { level: 2 })])
    const seq = Array.from({ length: 8 }, () => pool.pick(1, 'openai')!.id)
    expect(seq.filter((i) => i === 1).length).toBe(6)
    expect(seq.filter((i) => i === 2).length).toBe(2)
    expect(seq.slice(0, 4)).not.toEqual([1, 1, 1, 2])
    expect(pool.pick(1, 'anthropic')).toBeNull()
    expect(pool.pick(2, 'openai')!.id).toBe(3)
  })

  test('skips sleeping, disabled, switched-off and excluded keys; sleep ends on time', () => {
    const clock = createFakeClock()
    const pool = createPool({ clock, persist: async () => {} })
    pool.load([key(1), key(2), key(3, { status: false })])
    pool.sleep(pool.get(1)!, 60_000)
    expect(pool.stateOf(pool.get(1)!)).toEqual({ state: 'sleeping', untilMs: clock.now() + 60_000 })
    expect(pool.pick(1, 'openai')!.id).toBe(2)
    expect(pool.pick(1, 'openai', new Set([2]))).toBeNull()
    pool.disable(pool.get(2)!, 'upstream 401: invalid key')
    expect(pool.pick(1, 'openai')).toBeNull()
    expect(pool.serves(1, 'openai')).toBe(true)
    clock.advance(60_000)
    expect(pool.pick(1, 'openai')!.id).toBe(1)
    expect(pool.stateOf(pool.get(2)!)).toEqual({
      state: 'disabled',
      reason: 'upstream 401: invalid key',
    })
  })

  test('drain hands the state and the counts since the last drain; requeue keeps them after a failed flush', async () => {
    const store = await openTestStore()
    const repo = createKeysRepo(store.sql)
    const now = Date.now()
    const id = await repo.insert({
      name: 'a',
      secretEnc: 'v1:x',
      secretHash: 'h',
      secretTail: '',
      level: 1,
      provider: 'http://x',
      type: 'openai',
      status: true,
      weight: 1,
      concurrency: 0,
      disabledReason: null,
      sleepUntilMs: null,
      createdAt: now,
      updatedAt: now,
    })
    const pool = createPool({ clock: createFakeClock(), persist: (tx, rows) => createKeysRepo(tx).saveState(rows) })
    pool.load([key(id)])
    const k = pool.pick(1, 'openai')!
    pool.failed(k)
    pool.disable(k, 'upstream 403')
    expect(pool.pending()).toBe(1)
    const rows: KeyStateRow[] = pool.drain()
    expect(pool.pending()).toBe(0)
    pool.requeue!(rows)
    expect(pool.pending()).toBe(1)
    await store.sql.tx((tx) => pool.write(tx, pool.drain(), { inserted: null }))
    const saved = (await repo.findById(id))!
    expect([saved.requests, saved.errors, saved.disabledReason]).toEqual([1, 1, 'upstream 403'])
    // Counts add to what is stored (another node's included), never replace it.
    await store.sql.run('UPDATE upstream_keys SET requests = requests + 10 WHERE id = ?', [id])
    pool.applyState(id, { sleepUntilMs: null, disabledReason: null })
    expect(pool.pick(1, 'openai')).not.toBeNull()
    expect(pool.pick(1, 'openai')).not.toBeNull()
    expect(pool.unsaved(id)).toEqual({ requests: 2, errors: 0 })
    await store.sql.tx((tx) => pool.write(tx, pool.drain(), { inserted: null }))
    expect((await repo.findById(id))!.requests).toBe(13)
    expect(pool.unsaved(id)).toEqual({ requests: 0, errors: 0 })
    await store.close()
  })
})

describe('pool on several nodes', () => {
  test("a key's Concurrency is split between the nodes: 5 on 2 nodes lets 2 calls here", () => {
    const pool = createPool({ clock: createFakeClock(), persist: async () => {}, nodes: 2 })
    pool.load([key(1, { concurrency: 5 })])
    const picked = [pool.pick(1, 'openai'), pool.pick(1, 'openai'), pool.pick(1, 'openai')]
    expect(picked.map((k) => k?.id ?? null)).toEqual([1, 1, null])
    expect(pool.busy(1, 'openai')).toBe(true)
    pool.done(picked[0]!)
    expect(pool.pick(1, 'openai')?.id).toBe(1)
  })

  test('a Concurrency below the node count still allows one call per node', () => {
    const pool = createPool({ clock: createFakeClock(), persist: async () => {}, nodes: 4 })
    pool.load([key(1, { concurrency: 2 })])
    expect(pool.pick(1, 'openai')?.id).toBe(1)
    expect(pool.pick(1, 'openai')).toBeNull()
  })
})

describe('vault', () => {
  test('round-trips, uses a fresh IV, and refuses a tampered secret', () => {
    const vault = createVault(randomBytes(32))
    const a = vault.encrypt('sk-proj-secret-value')
    expect(a).not.toBe(vault.encrypt('sk-proj-secret-value'))
    expect(vault.decrypt(a)).toBe('sk-proj-secret-value')
    const raw = Buffer.from(a.slice(3), 'base64')
    raw[raw.length - 1]! ^= 1
    expect(() => vault.decrypt('v1:' + raw.toString('base64'))).toThrow()
    expect(() => createVault(randomBytes(32)).decrypt(a)).toThrow()
    expect(secretTail('short')).toBe('')
  })
})
