// Per-model limits (`{model: {rpm, tpm}}`, `*` wildcards): the lookup that finds the entry covering
// a requested model in an account's ModelLimits or the global MODEL_LIMITS, and how they combine.
import type { ModelLimits } from '../accounts/repo'
import { compileMapper } from '../proxy/rules'

export type ModelLimit = { rpm?: number; tpm?: number }
/** The entry that covers a model, and the pattern it was found under (it names the scope). */
export type ModelMatch = { pattern: string; limit: ModelLimit }
export type ModelLookup = (model: string) => ModelMatch | undefined

/** Exact names first, then `*` patterns (most literal characters first), as the mappers match. */
export function compileModelLimits(table: ModelLimits | null | undefined): ModelLookup {
  if (!table) return () => undefined
  const entries = Object.entries(table)
  if (entries.length === 0) return () => undefined
  return compileMapper<ModelMatch>(
    Object.fromEntries(entries.map(([pattern, limit]) => [pattern, { pattern, limit }])),
  )
}

/** The account's entry field by field over the global one: what the account sets wins. */
export function overlay(own: ModelMatch | undefined, global: ModelMatch | undefined) {
  if (!own) return global
  if (!global) return own
  return { pattern: own.pattern, limit: { ...global.limit, ...own.limit } }
}
