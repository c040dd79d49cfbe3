// Global proxy rules from configuration: MODEL_MAPPER, LEVEL_MAPPER, SWITCH_OVER, RESOURCES,
// MODEL_PROVIDERS, parsed and compiled once (and again when settings change), plus the mapper
// matcher shared with accounts.
import { ConfigError } from '../config'
import { compilePathList, wildcardMatch } from '../accounts/lists'
import type { KeyType } from '../keys/repo'
import { catalogueProvider, type ProviderOf } from './translate/route'

export type Mapper<T> = (model: string) => T | undefined

export type Rules = {
  mapModel: Mapper<string>
  mapLevel: Mapper<number>
  /** SWITCH_OVER: the level to try after `level` is exhausted. */
  switchOver: ReadonlyMap<number, number>
  resourceAllowed: (path: string) => boolean
  /** The RESOURCES list itself (null = unrestricted), for narrowing with accounts. */
  resources: readonly string[] | null
  /** ALLOW_UNPRICED_MODELS: models without a price are forwarded (and cost nothing). */
  allowUnpriced: boolean
  /** The provider (key type and dialect) of a mapped model: MODEL_PROVIDERS, then the catalogue. */
  providerOf: ProviderOf
}

export type RuleSource = {
  MODEL_MAPPER?: string
  LEVEL_MAPPER?: string
  SWITCH_OVER?: string
  RESOURCES?: string
  ALLOW_UNPRICED_MODELS?: boolean
  /** `claude-*=anthropic,gpt-*=openai` (wildcards) or a JSON object. */
  MODEL_PROVIDERS?: string
}

/**
 * A mapper from `pattern → value`: exact names first, then `*` patterns, most literal characters
 * first. A string value with one `*`, mapped from a pattern with one `*`, receives what it matched
 * (`claude-*=vendor/claude-*`). Compiled once; no RegExp is built per call.
 */
export function compileMapper<T>(table: Record<string, T> | null | undefined): Mapper<T> {
  if (!table) return () => undefined
  const exact = new Map<string, T>()
  const wild: Array<{ pattern: string; value: T; literal: number }> = []
  for (const [pattern, value] of Object.entries(table)) {
    if (pattern.includes('*'))
      wild.push({ pattern, value, literal: pattern.replaceAll('*', '').length })
    else exact.set(pattern, value)
  }
  wild.sort((a, b) => b.literal - a.literal || (a.pattern < b.pattern ? -1 : 1))
  if (wild.length === 0) return (m) => exact.get(m)
  return (model) => {
    const hit = exact.get(model)
    if (hit !== undefined) return hit
    for (const w of wild) {
      if (!wildcardMatch(w.pattern, model)) continue
      if (
        typeof w.value === 'string' &&
        w.value.split('*').length === 2 &&
        w.pattern.split('*').length === 2
      ) {
        const [pre, post] = w.pattern.split('*') as [string, string]
        return w.value.replace('*', model.slice(pre.length, model.length - post.length)) as T
      }
      return w.value
    }
    return undefined
  }
}

/** `a=b,c=d` or a JSON object; values converted by `convert` (which throws on bad input). */
function parsePairs<T>(
  name: string,
  raw: string | undefined,
  convert: (v: unknown) => T,
): Record<string, T> | null {
  if (!raw || !raw.trim()) return null
  const out: Record<string, T> = {}
  const text = raw.trim()
  let entries: Array<[string, unknown]>
  if (text.startsWith('{')) {
    try {
      entries = Object.entries(JSON.parse(text) as Record<string, unknown>)
    } catch {
      throw new ConfigError(`invalid setting ${name}: not a JSON object`)
    }
  } else {
    entries = text
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((pair) => {
        const eq = pair.lastIndexOf('=')
        if (eq <= 0) throw new ConfigError(`invalid setting ${name}: '${pair}' is not from=to`)
        return [pair.slice(0, eq), pair.slice(eq + 1)]
      })
  }
  for (const [k, v] of entries) {
    try {
      out[k] = convert(v)
    } catch (e) {
      throw new ConfigError(`invalid setting ${name}: '${k}': ${(e as Error).message}`)
    }
  }
  return out
}

const toModel = (v: unknown): string => {
  if (typeof v !== 'string' || !v) throw new Error('target must be a model name')
  return v
}

const toLevel = (v: unknown): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new Error('level must be an integer 0-10')
  return n
}

const toProvider = (v: unknown): KeyType => {
  if (v !== 'openai' && v !== 'anthropic') throw new Error("provider must be 'openai' or 'anthropic'")
  return v
}

/** MODEL_PROVIDERS over the catalogue's providers: the first says, the second answers the rest. */
export function compileProviders(raw: string | undefined): ProviderOf {
  const table = compileMapper(parsePairs('MODEL_PROVIDERS', raw, toProvider))
  return (model) => table(model) ?? catalogueProvider(model)
}

export function compileRules(src: RuleSource): Rules {
  const switchOver = new Map<number, number>()
  const so = parsePairs('SWITCH_OVER', src.SWITCH_OVER, toLevel)
  for (const [from, to] of Object.entries(so ?? {})) switchOver.set(toLevel(from), to)
  const resources =
    src.RESOURCES && src.RESOURCES.trim() !== '*'
      ? src.RESOURCES.split(/[\s,]+/).filter(Boolean)
      : null
  return {
    mapModel: compileMapper(parsePairs('MODEL_MAPPER', src.MODEL_MAPPER, toModel)),
    mapLevel: compileMapper(parsePairs('LEVEL_MAPPER', src.LEVEL_MAPPER, toLevel)),
    switchOver,
    allowUnpriced: src.ALLOW_UNPRICED_MODELS === true,
    providerOf: compileProviders(src.MODEL_PROVIDERS),
    resourceAllowed: compilePathList(resources),
    resources,
  }
}
