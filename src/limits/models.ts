// Per-model limits (`{model: {rpm, tpm}}`, `*` wildcards): the global MODEL_LIMITS setting parsed
// once, and the lookup that finds the entry covering a requested model.
import type { ModelLimits } from '../accounts/repo'
import { ConfigError } from '../config'
import { compileMapper } from '../proxy/rules'

export type ModelLimit = { rpm?: number; tpm?: number }
/** The entry that covers a model, and the pattern it was found under (it names the scope). */
export type ModelMatch = { pattern: string; limit: ModelLimit }
export type ModelLookup = (model: string) => ModelMatch | undefined

/**
 * MODEL_LIMITS as a JSON object, e.g. `{"gpt-4o": {"rpm": 60, "tpm": 100000}}`; unset = none.
 * Throws ConfigError naming the setting on anything else, so bad input stops start-up.
 */
export function parseModelLimits(raw: string | undefined): ModelLimits {
  if (!raw || !raw.trim()) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    parsed = null
  }
  const bad = (why: string) => new ConfigError(`invalid setting MODEL_LIMITS: ${why}`)
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw bad('must be a JSON object like {"gpt-4o": {"rpm": 60, "tpm": 100000}}')
  }
  const out: ModelLimits = {}
  for (const [model, limit] of Object.entries(parsed as Record<string, unknown>)) {
    if (!limit || typeof limit !== 'object' || Array.isArray(limit)) {
      throw bad(`"${model}" must be an object with rpm and/or tpm`)
    }
    const entry: ModelLimit = {}
    for (const [k, n] of Object.entries(limit as Record<string, unknown>)) {
      if (k !== 'rpm' && k !== 'tpm') throw bad(`"${model}".${k} is not rpm or tpm`)
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
        throw bad(`"${model}".${k} must be a whole number ≥ 0 (0 = unlimited)`)
      }
      entry[k] = n
    }
    out[model] = entry
  }
  return out
}

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
