// The current use of an account's limit windows for /dashboard/x-user-info: RPM…TPD of its own
// scope, Concurrency against its calls in flight, and each ModelLimits pattern (its own entries
// over the global MODEL_LIMITS, as the gate applies them to the caller) with its rpm/tpm use.
import type { Account } from '../accounts/repo'
import { compileModelLimits } from '../limits/models'
import { ROOT_ID } from '../shared/ids'

/** A window's limit (0 = unlimited) and what is counted in it now. */
export type Use = { limit: number; used: number }
export type WindowCounts = {
  rpm: number
  rph: number
  rpd: number
  tpm: number
  tph: number
  tpd: number
}
export type ModelLimitEntry = { rpm?: number; tpm?: number }

export type LimitUse = {
  RPM: Use
  RPH: Use
  RPD: Use
  TPM: Use
  TPH: Use
  TPD: Use
  Concurrency: Use
  ModelLimits: Record<string, { rpm: Use; tpm: Use; source: 'account' | 'global' }>
}

export type LimitUseDeps = {
  /** Counts of one scope (`a:42`, `a:42:m:gpt-4*`); may answer later (a shared store). */
  windowUse(scopeKey: string): WindowCounts | Promise<WindowCounts>
  /** The global MODEL_LIMITS setting. */
  modelLimits(): Record<string, ModelLimitEntry> | null | undefined
  /** Several nodes: the account's calls in flight on every node (its shared Concurrency slots). */
  slotsInUse?(accountId: number): Promise<number>
}

const ZERO: WindowCounts = { rpm: 0, rph: 0, rpd: 0, tpm: 0, tph: 0, tpd: 0 }

/** Root is never limited, so nothing is counted for it: every use reads 0. */
export async function limitUse(d: LimitUseDeps, a: Account, inFlight: number): Promise<LimitUse> {
  const counts = async (key: string) => (a.id === ROOT_ID ? ZERO : await d.windowUse(key))
  const own = await counts(`a:${a.id}`)
  const global = d.modelLimits() ?? {}
  const mine = a.modelLimits ?? {}
  // An own entry is merged over the global entry that covers its pattern (as for a model of
  // that name); a global entry stands alone where no own entry covers the model.
  const globalOf = compileModelLimits(global)
  const patterns = [...new Set([...Object.keys(mine), ...Object.keys(global)])].sort()
  const models: LimitUse['ModelLimits'] = {}
  for (const p of patterns) {
    const limit = p in mine ? { ...globalOf(p)?.limit, ...mine[p] } : global[p]!
    const c = await counts(`a:${a.id}:m:${p}`)
    models[p] = {
      rpm: { limit: limit.rpm ?? 0, used: c.rpm },
      tpm: { limit: limit.tpm ?? 0, used: c.tpm },
      source: p in mine ? 'account' : 'global',
    }
  }
  return {
    RPM: { limit: a.rpm, used: own.rpm },
    RPH: { limit: a.rph, used: own.rph },
    RPD: { limit: a.rpd, used: own.rpd },
    TPM: { limit: a.tpm, used: own.tpm },
    TPH: { limit: a.tph, used: own.tph },
    TPD: { limit: a.tpd, used: own.tpd },
    Concurrency: {
      limit: a.concurrency,
      // The shared slots count only while a cap applies (the gate takes none otherwise).
      used: d.slotsInUse && a.concurrency > 0 && a.id !== ROOT_ID ? await d.slotsInUse(a.id) : inFlight,
    },
    ModelLimits: models,
  }
}
