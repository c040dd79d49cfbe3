// What an account may do through the proxy, compiled once per account version: its lists narrowed
// by every ancestor's (and the global RESOURCES), its model and level mappers before the global
// ones. Cached by Account object, so a changed account (a new object from auth) compiles anew.
import type { Account } from '../accounts/repo'
import { compileEffective, type List } from '../accounts/lists'
import { compileMapper } from './rules'
import type { Rules } from './rules'

export type Policy = {
  /** The account and every ancestor are enabled (a disabled ancestor disables its subtree). */
  enabled: boolean
  ipAllowed(ip: string): boolean
  resourceAllowed(path: string): boolean
  modelAllowed(model: string): boolean
  levelAllowed(level: number): boolean
  /** Account ModelMapper, then global MODEL_MAPPER; the name itself when neither matches. */
  mapModel(model: string): string
  /** LevelMapper / LEVEL_MAPPER for the requested name, then the mapped one; else Level. */
  levelFor(requested: string, mapped: string): number
}

export type AncestorsOf = (account: Account) => Account[]

export function compilePolicy(account: Account, ancestors: Account[], rules: Rules): Policy {
  const chain = [...ancestors, account]
  const lists = (pick: (a: Account) => List) => chain.map(pick)
  const ip = compileEffective(
    lists((a) => a.allowIps),
    'ips',
  )
  const resource = compileEffective([rules.resources, ...lists((a) => a.resources)], 'resources')
  const model = compileEffective(
    lists((a) => a.allowModels),
    'models',
  )
  const levels = lists((a) => (a.allowLevels ? a.allowLevels.map(String) : null))
  const level = compileEffective(levels, 'levels')
  const ownModel = compileMapper(account.modelMapper)
  const ownLevel = compileMapper(account.levelMapper)
  const depth = account.dna.split('.').filter(Boolean).length
  return {
    enabled: chain.length === depth && chain.every((a) => a.status),
    ipAllowed: ip,
    resourceAllowed: resource,
    modelAllowed: model,
    levelAllowed: level,
    mapModel(m) {
      const once = ownModel(m) ?? m
      return rules.mapModel(once) ?? once
    },
    levelFor(requested, mapped) {
      return (
        ownLevel(requested) ??
        ownLevel(mapped) ??
        rules.mapLevel(requested) ??
        rules.mapLevel(mapped) ??
        account.level
      )
    },
  }
}

export type Policies = { of(account: Account): Policy; clear(): void }

export function createPolicies(opts: { rules: () => Rules; ancestorsOf: AncestorsOf }): Policies {
  let cache = new WeakMap<Account, Policy>()
  return {
    of(account) {
      let p = cache.get(account)
      if (!p) {
        p = compilePolicy(account, opts.ancestorsOf(account), opts.rules())
        cache.set(account, p)
      }
      return p
    },
    // Any account, ancestor or setting change may narrow someone: recompile lazily.
    clear() {
      cache = new WeakMap()
    },
  }
}
