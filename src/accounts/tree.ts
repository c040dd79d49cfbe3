// The account tree in memory: accounts by id (LRU), their ancestors, whether an account may act
// (it and every ancestor enabled), and the AccountView the proxy reads: effective access lists
// and the chain of accounts whose limits cap a call. Kept fresh by the account events; reads
// from memory only, after warm() brought the account and its ancestors in.
import { LRUCache } from 'lru-cache'
import type { AccountEvent, Events } from '../shared/events'
import { compileEffective, type List } from './lists'
import type { Account, AccountsRepo } from './repo'

export type AccountView = {
  account: Account
  /** Root first … parent. */
  ancestors: readonly Account[]
  /** Enabled, and so is every ancestor: a disabled account disables its whole subtree. */
  usable: boolean
  /** The account's own lists narrowed by every ancestor's (global config not included). */
  allows: {
    ip(ip: string): boolean
    model(model: string): boolean
    level(level: number): boolean
    resource(path: string): boolean
  }
  /** Whose RPM…TPD and ModelLimits count a call: the account, then each ancestor below root. */
  limitChain: readonly Account[]
}

export type Tree = ReturnType<typeof createTree>

/** The event payload naming an account. */
export const eventOf = (a: Account): AccountEvent => ({ id: a.id, name: a.name, dna: a.dna })

/** `.1.42.57.` → [1, 42, 57]. */
export function idsOfDna(dna: string): number[] {
  return dna.split('.').filter(Boolean).map(Number)
}

export function createTree(repo: AccountsRepo, events: Events, opts: { max?: number } = {}) {
  const max = opts.max ?? 50_000
  const accounts = new LRUCache<number, Account>({ max })
  const views = new LRUCache<number, AccountView>({ max })

  // An account's lineage ids, once per account object (every call reads them, warm() included).
  const lineage = new WeakMap<Account, number[]>()
  const chainIds = (a: Account): number[] => {
    let ids = lineage.get(a)
    if (!ids) lineage.set(a, (ids = idsOfDna(a.dna)))
    return ids
  }

  /** From memory only: warm() or load() first. */
  const get = (id: number): Account | null => accounts.get(id) ?? null

  // Reads on their way; an account event meanwhile makes their answers stale (not cached).
  let epoch = 0
  events.onAccountChanged((e) => {
    epoch++
    accounts.delete(e.id)
  })
  events.onAccountDeleted((e) => {
    epoch++
    accounts.delete(e.id)
    views.delete(e.id)
  })

  /** Reads the given accounts and caches them; false when an account event came meanwhile. */
  const fetchMany = async (ids: number[]): Promise<boolean> => {
    const started = epoch
    const found = await repo.findManyById(ids)
    if (started !== epoch) return false
    for (const a of found) accounts.set(a.id, a)
    return true
  }

  /** Ids of the account's chain (itself, then ancestors) not in memory; null when it is not. */
  const missingOf = (id: number): number[] | null => {
    const self = accounts.get(id)
    if (!self) return null
    const missing: number[] = []
    for (const x of chainIds(self)) if (!accounts.has(x)) missing.push(x)
    return missing
  }

  /** Reads until the chain is in memory, or it is gone (deleted), at most a few rounds. */
  const fill = async (id: number): Promise<void> => {
    for (let round = 0; round < 5; round++) {
      const missing = missingOf(id)
      if (missing && missing.length === 0) return
      const done = await fetchMany(missing ?? [id])
      if (done && !missing && !accounts.has(id)) return
    }
  }

  /** The account and its ancestors into memory: undefined when all are there already (no await). */
  const warm = (id: number): Promise<void> | undefined => {
    const self = accounts.get(id)
    return self && chainIds(self).every((x) => accounts.has(x)) ? undefined : fill(id)
  }

  /** Root first … parent; shorter than the DNA says when an ancestor has just been deleted. */
  const ancestorsOf = (id: number): Account[] => {
    const self = get(id)
    if (!self) return []
    const out: Account[] = []
    const ids = chainIds(self)
    for (let i = 0; i < ids.length - 1; i++) {
      const aid = ids[i]!
      const a = get(aid)
      if (a) out.push(a)
    }
    return out
  }

  const chainUsable = (account: Account, ancestors: readonly Account[]) =>
    account.status &&
    ancestors.length === chainIds(account).length - 1 &&
    ancestors.every((a) => a.status)

  const build = (account: Account): AccountView => {
    const ancestors = ancestorsOf(account.id)
    const chain = [...ancestors, account]
    const lists = (pick: (a: Account) => List) => chain.map(pick)
    return {
      account,
      ancestors,
      usable: chainUsable(account, ancestors),
      allows: {
        ip: compileEffective(
          lists((a) => a.allowIps),
          'ips',
        ),
        model: compileEffective(
          lists((a) => a.allowModels),
          'models',
        ),
        level: compileEffective(
          lists((a) => a.allowLevels?.map(String) ?? null),
          'levels',
        ),
        resource: compileEffective(
          lists((a) => a.resources),
          'resources',
        ),
      },
      limitChain: [account, ...ancestors.slice(1).reverse()],
    }
  }

  return {
    get,
    warm,
    /** The account (and its ancestors) read from the store when not in memory. */
    async load(id: number): Promise<Account | null> {
      const w = warm(id)
      if (w) await w
      return get(id) ?? (await repo.findById(id))
    },
    ancestorsOf,
    /** May this account act (proxy, after warm)? It and every ancestor must be enabled. */
    isUsable(account: Account): boolean {
      return chainUsable(account, ancestorsOf(account.id))
    },
    /** isUsable with the account's ancestors read first when they are not in memory (admin API). */
    async usable(account: Account): Promise<boolean> {
      const w = warm(account.id)
      if (w) await w
      return chainUsable(account, ancestorsOf(account.id))
    },
    /**
     * The proxy's view of an account, cached; a view is reused only while the account and each
     * ancestor are the very objects it was built from (an event drops them from the cache).
     */
    view(id: number): AccountView | null {
      const account = get(id)
      if (!account) return null
      const v = views.get(id)
      // Reused while the account and every ancestor are the objects it was built from, all there.
      const whole = v !== undefined && v.ancestors.length === chainIds(account).length - 1
      if (v && whole && v.account === account && v.ancestors.every((a) => get(a.id) === a)) return v
      const fresh = build(account)
      views.set(id, fresh)
      return fresh
    },
    clear() {
      accounts.clear()
      views.clear()
    },
  }
}
