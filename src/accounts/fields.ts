// The §2.1 fields as the admin API writes them: validation of each input field, the rules against
// the parent (Rates floor, limit ceilings), inheritance at creation, and the patch to store.
import { AppError } from '../shared/errors'
import { MAX_USD, NANO_PER_USD, usdToNano } from '../shared/money'
import { DEFAULT_CARD_DAYS } from './cards'
import { applyListEdit, checkEntry, type ListKind } from './lists'
import type { Account, ModelLimits } from './repo'

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

/** Integer limits that a child may not set above its parent's non-zero value (0 = none of its own). */
export const CEILINGS = ['rpm', 'rph', 'rpd', 'tpm', 'tph', 'tpd', 'childLimit'] as const
export type Ceiling = (typeof CEILINGS)[number]
export const CEILING_FIELD: Record<Ceiling, string> = {
  rpm: 'RPM', rph: 'RPH', rpd: 'RPD', tpm: 'TPM', tph: 'TPH', tpd: 'TPD', childLimit: 'ChildLimit',
}

/** Only root may set these: they choose upstream key pools and models behind a name. */
export const ROOT_ONLY = ['Level', 'LevelMapper', 'ModelMapper'] as const
/** What an account may change on itself. */
export const SELF_FIELDS = ['Alias', 'BillingEmail'] as const

/** Copied from the creating caller when the body leaves them out (lists narrow live instead). */
export const INHERITED = [
  'level', 'gear', 'role', 'tier', 'factor', 'rates', 'rpm', 'rph', 'rpd', 'tpm', 'tph', 'tpd',
  'childLimit', 'modelLimits', 'modelMapper', 'levelMapper',
] as const satisfies readonly (keyof Account)[]

export const MAX_RATES = 1000
export const MAX_LIMIT_USD = 9_000_000
const NAME_RE = /^(?=.*[A-Za-z])[A-Za-z0-9_][A-Za-z0-9_.-]{3,62}$/
/** Looks like a list filter (L2, G-1, F1.5): such names would be ambiguous in a path. */
export const FILTER_RE = /^[LGRTF](-?\d+(\.\d+)?)$/
const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/

export function bad(field: string, why: string): AppError {
  return new AppError('bad_request', `${field}: ${why}`, { param: field })
}

export function checkName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw bad('Name', 'must be 4–63 characters of letters, digits, _ . - with at least one letter, not starting with . or -')
  }
  if (name.toLowerCase() === 'root') throw bad('Name', "'root' is reserved")
  if (FILTER_RE.test(name)) throw bad('Name', `'${name}' reads as a list filter (L/G/R/T/F + number)`)
  return name
}

export function checkEmail(email: string, field = 'Email'): string {
  const e = email.trim().toLowerCase()
  if (e.length > 254 || !EMAIL_RE.test(e)) throw bad(field, `'${email}' is not a valid e-mail address`)
  return e
}

function listEdit(field: string, kind: ListKind, current: readonly string[] | null, v: ListInput) {
  const r = applyListEdit(current, Array.isArray(v) ? v.join(' ') : v, kind)
  if (!r.ok) throw new AppError('bad_request', r.message, { param: field })
  return r.value
}

function modelLimits(v: AccountInput['ModelLimits']): ModelLimits | null {
  if (v === null || v === undefined || Object.keys(v).length === 0) return null
  const out: ModelLimits = {}
  for (const [model, lim] of Object.entries(v)) {
    const c = checkEntry(model, 'models')
    if (!c.ok) throw bad('ModelLimits', `'${model}' ${c.why}`)
    if (!lim || typeof lim !== 'object' || Array.isArray(lim)) throw bad('ModelLimits', `'${model}' needs {rpm, tpm}`)
    const entry: { rpm?: number; tpm?: number } = {}
    for (const [k, n] of Object.entries(lim)) {
      if (k !== 'rpm' && k !== 'tpm') throw bad('ModelLimits', `'${model}'.${k}: only rpm and tpm`)
      if (!(Number.isSafeInteger(n) && (n as number) >= 0)) {
        throw bad('ModelLimits', `'${model}'.${k} must be an integer ≥ 0`)
      }
      entry[k] = n as number
    }
    out[c.value] = entry
  }
  return out
}

/** `{pattern: target}` or the text `pattern=target pattern2=target2` (commas also separate). */
function mapper<V>(field: string, v: Record<string, unknown> | string | null, value: (raw: unknown) => V) {
  if (v === null) return null
  const pairs: Array<[string, unknown]> =
    typeof v === 'string'
      ? v.split(/[\s,]+/).filter(Boolean).map((p) => {
          const at = p.indexOf('=')
          if (at <= 0) throw bad(field, `'${p}' is not pattern=target`)
          return [p.slice(0, at), p.slice(at + 1)]
        })
      : Object.entries(v)
  if (pairs.length === 0) return null
  const out: Record<string, V> = {}
  for (const [k, raw] of pairs) {
    const c = checkEntry(k, 'models')
    if (!c.ok) throw bad(field, `'${k}' ${c.why}`)
    out[c.value] = value(raw)
  }
  return out
}

const modelTarget = (raw: unknown) => {
  const c = typeof raw === 'string' ? checkEntry(raw, 'models') : null
  if (!c?.ok || String(raw).includes('*')) throw bad('ModelMapper', `target '${raw}' is not a model name`)
  return c.value
}
const levelTarget = (raw: unknown) => {
  const n = typeof raw === 'number' || typeof raw === 'string' ? Number(raw) : NaN
  if (!(Number.isInteger(n) && n >= 0 && n <= 10)) throw bad('LevelMapper', `target '${raw}' is not a level 0–10`)
  return n
}

function usdLimit(field: string, v: number): number {
  if (!(v >= 0 && v <= MAX_LIMIT_USD)) throw bad(field, `must be between 0 and ${MAX_LIMIT_USD} USD`)
  return limitNano(v)
}

/** Monthly limits may exceed MAX_USD (a single movement's cap); 9 million USD stays exact. */
export function limitNano(usd: number): number {
  return Math.round(usd * NANO_PER_USD)
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
    p.billingEmail = input.BillingEmail === null || input.BillingEmail === '' ? null : checkEmail(input.BillingEmail, 'BillingEmail')
  }
  if (input.Status !== undefined) p.status = input.Status
  if (input.Level !== undefined) p.level = input.Level
  if (input.Gear !== undefined) p.gear = input.Gear
  if (input.Role !== undefined) p.role = input.Role
  if (input.Tier !== undefined) p.tier = input.Tier
  if (input.Factor !== undefined) p.factor = input.Factor
  if (input.Rates !== undefined) {
    if (!(input.Rates > 0 && input.Rates <= MAX_RATES)) throw bad('Rates', `must be above 0 and at most ${MAX_RATES}`)
    if (input.Rates < parent.rates) throw bad('Rates', `${input.Rates} is below the parent's Rates ${parent.rates}`)
    p.rates = input.Rates
  }
  if (input.HardLimit !== undefined) p.hardLimitNano = usdLimit('HardLimit', input.HardLimit)
  if (input.SoftLimit !== undefined) p.softLimitNano = usdLimit('SoftLimit', input.SoftLimit)
  for (const key of CEILINGS) {
    const field = CEILING_FIELD[key]
    const v = input[field as keyof AccountInput] as number | undefined
    if (v === undefined) continue
    const cap = parent[key]
    if (cap > 0 && v > cap) throw bad(field, `${v} is above the parent's ${field} ${cap}`)
    p[key] = v
  }
  if (input.ModelLimits !== undefined) p.modelLimits = modelLimits(input.ModelLimits)
  if (input.AllowIPs !== undefined) p.allowIps = listEdit('AllowIPs', 'ips', current?.allowIps ?? null, input.AllowIPs)
  if (input.AllowModels !== undefined) {
    p.allowModels = listEdit('AllowModels', 'models', current?.allowModels ?? null, input.AllowModels)
  }
  if (input.Resources !== undefined) {
    p.resources = listEdit('Resources', 'resources', current?.resources ?? null, input.Resources)
  }
  if (input.AllowLevels !== undefined) {
    const now = current?.allowLevels?.map(String) ?? null
    p.allowLevels = listEdit('AllowLevels', 'levels', now, input.AllowLevels)?.map(Number) ?? null
  }
  if (input.ModelMapper !== undefined) p.modelMapper = mapper('ModelMapper', input.ModelMapper, modelTarget)
  if (input.LevelMapper !== undefined) p.levelMapper = mapper('LevelMapper', input.LevelMapper, levelTarget)
  return p
}

/** The fields a new child takes from its creator when the body leaves them out. */
export function inherit(caller: Account, patch: Patch): Patch {
  const out: Patch = {}
  for (const k of INHERITED) if (patch[k] === undefined) (out as Record<string, unknown>)[k] = caller[k]
  return out
}

/** Names the first present field of `fields` in `input`, if any. */
export function firstPresent(input: AccountInput, fields: readonly string[]): string | undefined {
  return fields.find((f) => (input as Record<string, unknown>)[f] !== undefined)
}

/** `CreditGranted` in nano-USD, checked: finite, at most MAX_USD, at least `minUsd` if given. */
export function creditNano(x: number, minUsd?: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > MAX_USD) throw bad('CreditGranted', `must be at most ${MAX_USD} USD`)
  if (minUsd !== undefined && x < minUsd) throw bad('CreditGranted', `must be at least ${minUsd} USD (USER_MIN_BALANCE)`)
  return usdToNano(x)
}

export function checkDays(days: number | undefined, creditNanoValue: number): number {
  if (days === undefined) return DEFAULT_CARD_DAYS
  if (!(days > 0 && days <= 365)) throw bad('Days', 'must be above 0 and at most 365')
  if (creditNanoValue <= 0) throw bad('Days', 'sets the validity of a new card: send it with a positive CreditGranted')
  return days
}
