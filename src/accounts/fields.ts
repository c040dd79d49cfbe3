// The §2.1 fields as the admin API writes them: validation of each input field, the rules against
// the parent (Rates floor, limit ceilings), inheritance at creation, and the patch to store.
import { AppError } from '../shared/errors'
import { nanoToUsd, usdToNano } from '../shared/money'
import { applyListEdit, levelsStored, type ListKind } from './lists'
import type { Account } from './repo'
import {
  bad,
  checkEmail,
  checkName,
  levelTarget,
  limitNano,
  mapper,
  MAX_LIMIT_USD,
  MAX_RATES,
  modelLimits,
  modelTarget,
  usdLimit,
} from './values'

/** A request body of POST/PUT /x-users, already type-checked by the route's TypeBox model. */
export type AccountInput = {
  Name?: string
  Email?: string
  Alias?: string
  BillingEmail?: string | null
  Status?: boolean
  Level?: number
  Gear?: number
  Role?: number
  Tier?: number
  Factor?: number
  Rates?: number
  HardLimit?: number
  SoftLimit?: number
  RPM?: number
  RPH?: number
  RPD?: number
  TPM?: number
  TPH?: number
  TPD?: number
  Concurrency?: number
  ChildLimit?: number
  ModelLimits?: Record<string, unknown> | null
  AllowIPs?: ListInput
  AllowModels?: ListInput
  AllowLevels?: ListInput
  Resources?: ListInput
  ModelMapper?: Record<string, unknown> | string | null
  LevelMapper?: Record<string, unknown> | string | null
  CreditGranted?: number
  Days?: number
}

/** An edit string, or its entries as an array (`[1, 2]` for levels). */
export type ListInput = string | Array<string | number>

export type Patch = Partial<Account>

/** Integer limits a child may not set above its parent's non-zero value (0 = none of its own). */
export const CEILINGS = ['rpm', 'rph', 'rpd', 'tpm', 'tph', 'tpd', 'concurrency', 'childLimit'] as const
export type Ceiling = (typeof CEILINGS)[number]
export const CEILING_FIELD: Record<Ceiling, string> = {
  rpm: 'RPM',
  rph: 'RPH',
  rpd: 'RPD',
  tpm: 'TPM',
  tph: 'TPH',
  tpd: 'TPD',
  concurrency: 'Concurrency',
  childLimit: 'ChildLimit',
}

/** Only root may set these: they choose upstream key pools and models behind a name. */
export const ROOT_ONLY = ['Level', 'LevelMapper', 'ModelMapper'] as const
/** What an account may change on itself. */
export const SELF_FIELDS = ['Alias', 'BillingEmail'] as const

/** Copied from the creating caller when the body leaves them out (lists narrow live instead). */
export const INHERITED = [
  'level',
  'gear',
  'role',
  'tier',
  'factor',
  'rates',
  'rpm',
  'rph',
  'rpd',
  'tpm',
  'tph',
  'tpd',
  'concurrency',
  'childLimit',
  'modelLimits',
  'modelMapper',
  'levelMapper',
] as const satisfies readonly (keyof Account)[]

function listEdit(
  field: string,
  kind: ListKind,
  current: readonly (string | number)[] | null,
  v: ListInput,
) {
  const now = current === null ? null : current.map(String)
  const r = applyListEdit(now, Array.isArray(v) ? v.join(' ') : v, kind)
  if (!r.ok) throw new AppError('bad_request', r.message, { param: field })
  return r.value
}

/**
 * The fields of `input` as a patch of the target (`current`, null when creating), checked
 * against `parent` (the target's parent). CreditGranted and Days are not part of it.
 */
export function buildPatch(input: AccountInput, current: Account | null, parent: Account): Patch {
  const p: Patch = {}
  if (input.Name !== undefined) p.name = checkName(input.Name)
  if (input.Email !== undefined) p.email = checkEmail(input.Email)
  if (input.Alias !== undefined) {
    const a = input.Alias.trim()
    if (a.length < 1 || a.length > 64) throw bad('Alias', 'must be 1–64 characters')
    p.alias = a
  }
  if (input.BillingEmail !== undefined) {
    p.billingEmail =
      input.BillingEmail === null || input.BillingEmail === ''
        ? null
        : checkEmail(input.BillingEmail, 'BillingEmail')
  }
  if (input.Status !== undefined) p.status = input.Status
  if (input.Level !== undefined) p.level = input.Level
  if (input.Gear !== undefined) p.gear = input.Gear
  if (input.Role !== undefined) p.role = input.Role
  if (input.Tier !== undefined) p.tier = input.Tier
  if (input.Factor !== undefined) p.factor = input.Factor
  if (input.Rates !== undefined) {
    if (!(input.Rates > 0 && input.Rates <= MAX_RATES))
      throw bad('Rates', `must be above 0 and at most ${MAX_RATES}`)
    if (input.Rates < parent.rates)
      throw bad('Rates', `${input.Rates} is below the parent's Rates ${parent.rates}`)
    p.rates = input.Rates
  }
  if (input.HardLimit !== undefined) p.hardLimitNano = usdLimit('HardLimit', input.HardLimit)
  if (input.SoftLimit !== undefined) p.softLimitNano = usdLimit('SoftLimit', input.SoftLimit)
  settleSoftLimit(p, current, input.CreditGranted)
  for (const key of CEILINGS) {
    const field = CEILING_FIELD[key]
    const v = input[field as keyof AccountInput] as number | undefined
    if (v === undefined) continue
    const cap = parent[key]
    if (cap > 0 && v > cap) throw bad(field, `${v} is above the parent's ${field} ${cap}`)
    p[key] = v
  }
  if (input.ModelLimits !== undefined) p.modelLimits = modelLimits(input.ModelLimits)
  if (input.AllowIPs !== undefined)
    p.allowIps = listEdit('AllowIPs', 'ips', current?.allowIps ?? null, input.AllowIPs)
  if (input.AllowModels !== undefined) {
    p.allowModels = listEdit(
      'AllowModels',
      'models',
      current?.allowModels ?? null,
      input.AllowModels,
    )
  }
  if (input.Resources !== undefined) {
    p.resources = listEdit('Resources', 'resources', current?.resources ?? null, input.Resources)
  }
  if (input.AllowLevels !== undefined) {
    const now = current?.allowLevels ?? null
    p.allowLevels = levelsStored(listEdit('AllowLevels', 'levels', now, input.AllowLevels))
  }
  if (input.ModelMapper !== undefined)
    p.modelMapper = mapper('ModelMapper', input.ModelMapper, modelTarget)
  if (input.LevelMapper !== undefined)
    p.levelMapper = mapper('LevelMapper', input.LevelMapper, levelTarget)
  return p
}

/**
 * SoftLimit never ends above a non-zero HardLimit (0 = no limit). A SoftLimit asked above it is a
 * 400; a HardLimit lowered below the stored SoftLimit takes the SoftLimit down to 80 % of it. At
 * creation (`current` null) an unset HardLimit is the default 10 × CreditGranted.
 */
function settleSoftLimit(p: Patch, current: Account | null, creditUsd: number | undefined) {
  const hard =
    p.hardLimitNano ??
    current?.hardLimitNano ??
    Math.min(usdToNano(creditUsd ?? 0) * 10, limitNano(MAX_LIMIT_USD))
  if (!(hard > 0)) return
  if (p.softLimitNano !== undefined) {
    if (p.softLimitNano <= hard) return
    const why = p.hardLimitNano === undefined && current === null ? ' (10 × CreditGranted)' : ''
    throw bad(
      'SoftLimit',
      `${nanoToUsd(p.softLimitNano)} USD is above the HardLimit of ${nanoToUsd(hard)} USD${why}; ` +
        'SoftLimit must be at most HardLimit',
    )
  }
  if (current && p.hardLimitNano !== undefined && current.softLimitNano > hard)
    p.softLimitNano = Math.round(hard * 0.8)
}

/** The fields a new child takes from its creator when the body leaves them out. */
export function inherit(caller: Account, patch: Patch): Patch {
  const out: Patch = {}
  for (const k of INHERITED)
    if (patch[k] === undefined) (out as Record<string, unknown>)[k] = caller[k]
  return out
}

/** Names the first present field of `fields` in `input`, if any. */
export function firstPresent(input: AccountInput, fields: readonly string[]): string | undefined {
  return fields.find((f) => (input as Record<string, unknown>)[f] !== undefined)
}
