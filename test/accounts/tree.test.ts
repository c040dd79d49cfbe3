// The tree cache and the account service without the app: ancestors, usability of a subtree,
// AccountView narrowing and its invalidation by events, and the service called directly.
import { openTestStore } from '../helpers/engine'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootstrap } from '../../src/accounts/bootstrap'
import { idsOfDna } from '../../src/accounts/tree'
import type { Account } from '../../src/accounts/repo'
import { loadConfig } from '../../src/config'
import type { Store } from '../../src/db/open'
import { buildDeps, type Deps } from '../../src/deps'
import { createFakeClock } from '../../src/shared/clock'
import { AppError } from '../../src/shared/errors'
import { generateKey } from '../../src/shared/ids'
import { createMemoryLogger } from '../../src/shared/log'

let store: Store
let deps: Deps
let root: Account

beforeAll(async () => {
  store = await openTestStore()
  const config = loadConfig({}, { DATA_DIR: '/nonexistent', TZ: 'UTC', USER_API_MIN_BALANCE: '0' })
  deps = await buildDeps(config, store, { clock: createFakeClock(), log: createMemoryLogger() })
  await bootstrap(store.sql, {
    initUsers: `root::root@example.com::${generateKey()}`,
    dataDir: '/nonexistent',
    nowMs: 0,
  })
  root = (await deps.accounts.repo.findById(1))!
})

afterAll(() => store.close())

const svc = () => deps.accounts.service
const make = (parent: typeof root, name: string, extra: Record<string, unknown> = {}) =>
  svc().create(parent, { Name: name, Email: `${name}@example.com`, CreditGranted: 50, ...extra })

describe('tree', () => {
  test('idsOfDna splits a lineage', () => {
    expect(idsOfDna('.1.42.57.')).toEqual([1, 42, 57])
  })

  test('ancestorsOf lists root first … parent, from the cache until an event drops it', async () => {
    const a = (await deps.accounts.repo.findById((await make(root, 'tree-a')).User.ID))!
    const b = (await deps.accounts.repo.findById((await make(a, 'tree-b')).User.ID))!
    const c = (await deps.accounts.repo.findById((await make(b, 'tree-c')).User.ID))!
    const tree = deps.accounts.tree
    await tree.warm(c.id)
    expect(tree.ancestorsOf(c.id).map((x) => x.id)).toEqual([1, a.id, b.id])
    expect(tree.view(c.id)!.limitChain.map((x) => x.id)).toEqual([c.id, b.id, a.id])
    const first = tree.view(c.id)
    expect(tree.view(c.id), 'a view is reused while nothing changed').toBe(first)
    await svc().update(root, 'tree-a', { AllowModels: 'gpt-4o' })
    await tree.warm(c.id)
    const after = tree.view(c.id)!
    expect(after, 'a change of an ancestor rebuilds the view').not.toBe(first)
    expect(after.allows.model('gpt-4o')).toBe(true)
    expect(after.allows.model('gpt-4o-mini')).toBe(false)
  })

  test('a disabled ancestor makes its subtree unusable, enabling it restores it', async () => {
    const a = (await deps.accounts.repo.findById((await make(root, 'tree-d')).User.ID))!
    const b = (await deps.accounts.repo.findById((await make(a, 'tree-e')).User.ID))!
    const tree = deps.accounts.tree
    // isUsable reads memory only: creating b changed a's cards, which dropped a from the cache.
    await tree.warm(b.id)
    expect(tree.isUsable(b)).toBe(true)
    await svc().update(root, String(a.id), { Status: false })
    await tree.warm(b.id)
    expect(tree.ancestorsOf(b.id).map((x) => x.id), 'the disabled ancestor read back').toEqual([1, a.id])
    expect(tree.isUsable(b)).toBe(false)
    expect(tree.view(b.id)!.usable).toBe(false)
    await expect(svc().list(b, 'subtree', undefined, {})).rejects.toThrow(AppError)
    await svc().update(root, String(a.id), { Status: true })
    await tree.warm(b.id)
    expect(tree.view(b.id)!.usable).toBe(true)
  })

  test('deleting drops the views and publishes deepest first', async () => {
    const a = (await deps.accounts.repo.findById((await make(root, 'tree-f')).User.ID))!
    const b = (await deps.accounts.repo.findById((await make(a, 'tree-g')).User.ID))!
    const seen: number[] = []
    deps.events.onAccountDeleted((e) => seen.push(e.id))
    // view() reads memory only: creating b changed a's cards, which dropped a from the cache.
    await deps.accounts.tree.warm(b.id)
    expect(deps.accounts.tree.view(b.id)).not.toBeNull()
    await svc().remove(root, 'tree-f')
    expect(seen).toEqual([b.id, a.id])
    expect(deps.accounts.tree.view(b.id)).toBeNull()
    expect(deps.accounts.tree.ancestorsOf(b.id)).toEqual([])
  })
})

describe('service without the app', () => {
  test('the flusher runs before every admin money operation', async () => {
    let flushes = 0
    deps.flusher.register({
      name: 'probe',
      pending: () => 1,
      drain: () => (flushes++, []),
      write: async () => {},
    })
    const a = await make(root, 'svc-flush')
    const before = flushes
    await svc().update(root, String(a.User.ID), { CreditGranted: 5 })
    await svc().remove(root, String(a.User.ID))
    expect(flushes - before).toBe(2)
  })

  test('a failure half-way (402 after a field change) rolls the whole write back', async () => {
    const a = (await deps.accounts.repo.findById((await make(root, 'svc-half')).User.ID))!
    const b = await make(a, 'svc-half-kid')
    await expect(svc().update(a, String(b.User.ID), { Alias: 'changed', Rates: 2, CreditGranted: 1000 }),
    ).rejects.toThrow(expect.objectContaining({ code: 'insufficient_balance' }))
    const after = (await deps.accounts.repo.findById(b.User.ID))!
    expect([after.alias, after.rates]).toEqual(['svc-half-kid', 1])
    expect(await deps.accounts.service.cards.invariantViolations()).toEqual([])
  })

  test('the control API may open an account without credit', async () => {
    const input = { Name: 'svc-nocredit', Email: 'svc-nocredit@example.com', CreditGranted: 0 }
    await expect(svc().create(root, input)).rejects.toThrow(
      expect.objectContaining({ param: 'CreditGranted' }),
    )
    const a = await svc().create(root, input, { noMinimum: true })
    expect([a.User.Updates.Balance, a.User.Updates.CreditBalance]).toEqual([0, []])
    expect(await deps.accounts.service.cards.invariantViolations()).toEqual([])
  })

  test('a chosen key (control API) is used and must be unique', async () => {
    const key = generateKey()
    const a = await svc().create(
      root,
      { Name: 'svc-key', Email: 'svc-key@example.com', CreditGranted: 5 },
      { key },
    )
    expect(a.User.SecretKey).toBe(key)
    await expect(svc().create(
        root,
        { Name: 'svc-key2', Email: 'svc-key2@example.com', CreditGranted: 5 },
        { key },
      ),
    ).rejects.toThrow(expect.objectContaining({ code: 'conflict' }))
  })
})
