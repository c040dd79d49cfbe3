// The tree cache and the account service without the app: ancestors, usability of a subtree,
// AccountView narrowing and its invalidation by events, and the service called directly.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootstrap } from '../../src/accounts/bootstrap'
import { idsOfDna } from '../../src/accounts/tree'
import { loadConfig } from '../../src/config'
import { openMemoryStore, type Store } from '../../src/db/open'
import { buildDeps, type Deps } from '../../src/deps'
import { createFakeClock } from '../../src/shared/clock'
import { AppError } from '../../src/shared/errors'
import { generateKey } from '../../src/shared/ids'
import { createMemoryLogger } from '../../src/shared/log'

let store: Store
let deps: Deps
let root: ReturnType<Deps['accounts']['repo']['findById']> & {}

beforeAll(async () => {
  store = openMemoryStore()
  const config = loadConfig({}, { DATA_DIR: '/nonexistent', TZ: 'UTC', USER_API_MIN_BALANCE: '0' })
  deps = await buildDeps(config, store, { clock: createFakeClock(), log: createMemoryLogger() })
  bootstrap(store.db, deps.accounts.repo, {
    initUsers: `root::root@example.com::${generateKey()}`,
    dataDir: '/nonexistent',
    nowMs: 0,
  })
  root = deps.accounts.repo.findById(1)!
})

afterAll(() => store.close())

const svc = () => deps.accounts.service
const make = (parent: typeof root, name: string, extra: Record<string, unknown> = {}) =>
  svc().create(parent, { Name: name, Email: `${name}@example.com`, CreditGranted: 50, ...extra })

describe('tree', () => {
  test('idsOfDna splits a lineage', () => {
    expect(idsOfDna('.1.42.57.')).toEqual([1, 42, 57])
  })

  test('ancestorsOf lists root first … parent, from the cache until an event drops it', () => {
    const a = deps.accounts.repo.findById(make(root, 'tree-a').User.ID)!
    const b = deps.accounts.repo.findById(make(a, 'tree-b').User.ID)!
    const c = deps.accounts.repo.findById(make(b, 'tree-c').User.ID)!
    const tree = deps.accounts.tree
    expect(tree.ancestorsOf(c.id).map((x) => x.id)).toEqual([1, a.id, b.id])
    expect(tree.view(c.id)!.limitChain.map((x) => x.id)).toEqual([c.id, b.id, a.id])
    const first = tree.view(c.id)
    expect(tree.view(c.id), 'a view is reused while nothing changed').toBe(first)
    svc().update(root, 'tree-a', { AllowModels: 'gpt-4o' })
    const after = tree.view(c.id)!
    expect(after, 'a change of an ancestor rebuilds the view').not.toBe(first)
    expect(after.allows.model('gpt-4o')).toBe(true)
    expect(after.allows.model('gpt-4o-mini')).toBe(false)
  })

  test('a disabled ancestor makes its subtree unusable, enabling it restores it', () => {
    const a = deps.accounts.repo.findById(make(root, 'tree-d').User.ID)!
    const b = deps.accounts.repo.findById(make(a, 'tree-e').User.ID)!
    const tree = deps.accounts.tree
    expect(tree.isUsable(b)).toBe(true)
    svc().update(root, String(a.id), { Status: false })
    expect(tree.isUsable(b)).toBe(false)
    expect(tree.view(b.id)!.usable).toBe(false)
    expect(() => svc().list(b, 'subtree', undefined, {})).toThrow(AppError)
    svc().update(root, String(a.id), { Status: true })
    expect(tree.view(b.id)!.usable).toBe(true)
  })

  test('deleting drops the views and publishes deepest first', () => {
    const a = deps.accounts.repo.findById(make(root, 'tree-f').User.ID)!
    const b = deps.accounts.repo.findById(make(a, 'tree-g').User.ID)!
    const seen: number[] = []
    deps.events.onAccountDeleted((e) => seen.push(e.id))
    expect(deps.accounts.tree.view(b.id)).not.toBeNull()
    svc().remove(root, 'tree-f')
    expect(seen).toEqual([b.id, a.id])
    expect(deps.accounts.tree.view(b.id)).toBeNull()
    expect(deps.accounts.tree.ancestorsOf(b.id)).toEqual([])
  })
})

describe('service without the app', () => {
  test('the flusher runs before every admin money operation', () => {
    let flushes = 0
    deps.flusher.register({
      name: 'probe',
      pending: () => 1,
      drain: () => (flushes++, []),
      write: () => {},
    })
    const a = make(root, 'svc-flush')
    const before = flushes
    svc().update(root, String(a.User.ID), { CreditGranted: 5 })
    svc().remove(root, String(a.User.ID))
    expect(flushes - before).toBe(2)
  })

  test('a failure half-way (402 after a field change) rolls the whole write back', () => {
    const a = deps.accounts.repo.findById(make(root, 'svc-half').User.ID)!
    const b = make(a, 'svc-half-kid')
    expect(() =>
      svc().update(a, String(b.User.ID), { Alias: 'changed', Rates: 2, CreditGranted: 1000 }),
    ).toThrow(expect.objectContaining({ code: 'insufficient_balance' }))
    const after = deps.accounts.repo.findById(b.User.ID)!
    expect([after.alias, after.rates]).toEqual(['svc-half-kid', 1])
    expect(deps.accounts.repo.invariantViolations()).toEqual([])
  })

  test('the control API may open an account without credit', () => {
    const input = { Name: 'svc-nocredit', Email: 'svc-nocredit@example.com', CreditGranted: 0 }
    expect(() => svc().create(root, input)).toThrow(
      expect.objectContaining({ param: 'CreditGranted' }),
    )
    const a = svc().create(root, input, { noMinimum: true })
    expect([a.User.Updates.Balance, a.User.Updates.CreditBalance]).toEqual([0, []])
    expect(deps.accounts.repo.invariantViolations()).toEqual([])
  })

  test('a chosen key (control API) is used and must be unique', () => {
    const key = generateKey()
    const a = svc().create(
      root,
      { Name: 'svc-key', Email: 'svc-key@example.com', CreditGranted: 5 },
      { key },
    )
    expect(a.User.SecretKey).toBe(key)
    expect(() =>
      svc().create(
        root,
        { Name: 'svc-key2', Email: 'svc-key2@example.com', CreditGranted: 5 },
        { key },
      ),
    ).toThrow(expect.objectContaining({ code: 'conflict' }))
  })
})
