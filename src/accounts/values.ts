// Checks of single input values of the subaccount API: names, e-mails, ModelLimits, mappers,
// money and limits. Each failure is a 400 naming the field and why.
import { AppError } from '../shared/errors'
import { MAX_USD, NANO_PER_USD, usdToNano } from '../shared/money'
import { DEFAULT_CARD_DAYS } from '../wallet/cards'
import { checkEntry } from './lists'
import type { ModelLimits } from './repo'

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
    throw bad(
      'Name',
      'must be 4–63 characters of letters, digits, _ . - with at least one letter, not starting with . or -',
    )
  }
  if (name.toLowerCase() === 'root') throw bad('Name', "'root' is reserved")
  if (FILTER_RE.test(name))
    throw bad('Name', `'${name}' reads as a list filter (L/G/R/T/F + number)`)
  return name
}

export function checkEmail(email: string, field = 'Email'): string {
  const e = email.trim().toLowerCase()
  if (e.length > 254 || !EMAIL_RE.test(e))
    throw bad(field, `'${email}' is not a valid e-mail address`)
  return e
}

export function modelLimits(v: Record<string, unknown> | null | undefined): ModelLimits | null {
  if (v === null || v === undefined || Object.keys(v).length === 0) return null
  const out: ModelLimits = {}
  for (const [model, lim] of Object.entries(v)) {
    const c = checkEntry(model, 'models')
    if (!c.ok) throw bad('ModelLimits', `'${model}' ${c.why}`)
    if (!lim || typeof lim !== 'object' || Array.isArray(lim))
      throw bad('ModelLimits', `'${model}' needs {rpm, tpm}`)
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
export function mapper<V>(
  field: string,
  v: Record<string, unknown> | string | null,
  value: (raw: unknown) => V,
) {
  if (v === null) return null
  const pairs: Array<[string, unknown]> =
    typeof v === 'string'
      ? v
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((p) => {
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

export const modelTarget = (raw: unknown) => {
  const c = typeof raw === 'string' ? checkEntry(raw, 'models') : null
  if (!c?.ok || String(raw).includes('*'))
    throw bad('ModelMapper', `target '${raw}' is not a model name`)
  return c.value
}
export const levelTarget = (raw: unknown) => {
  const n = typeof raw === 'number' || typeof raw === 'string' ? Number(raw) : NaN
  if (!(Number.isInteger(n) && n >= 0 && n <= 10))
    throw bad('LevelMapper', `target '${raw}' is not a level 0–10`)
  return n
}

export function usdLimit(field: string, v: number): number {
  if (!(v >= 0 && v <= MAX_LIMIT_USD))
    throw bad(field, `must be between 0 and ${MAX_LIMIT_USD} USD`)
  return limitNano(v)
}

/** Monthly limits may exceed MAX_USD (a single movement's cap); 9 million USD stays exact. */
export function limitNano(usd: number): number {
  return Math.round(usd * NANO_PER_USD)
}

/** `CreditGranted` in nano-USD, checked: finite, at most MAX_USD, at least `minUsd` if given. */
export function creditNano(x: number, minUsd?: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > MAX_USD)
    throw bad('CreditGranted', `must be at most ${MAX_USD} USD`)
  if (minUsd !== undefined && x < minUsd)
    throw bad('CreditGranted', `must be at least ${minUsd} USD (USER_MIN_BALANCE)`)
  return usdToNano(x)
}

export function checkDays(days: number | undefined, creditNanoValue: number): number {
  if (days === undefined) return DEFAULT_CARD_DAYS
  if (!(days > 0 && days <= 365)) throw bad('Days', 'must be above 0 and at most 365')
  if (creditNanoValue <= 0)
    throw bad('Days', 'sets the validity of a new card: send it with a positive CreditGranted')
  return days
}
