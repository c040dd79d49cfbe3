// Validation errors in plain words (§8): a TypeBox error (its schema's keywords: type, minimum,
// maximum, minLength, maxLength, pattern, anyOf…) becomes one sentence naming the field, e.g.
// `Level must be between 0 and 10 (got "11")`. A number sent as text reads as the number would.

type Schema = Record<string, any>
export type ValueErrorLike = { path?: string; value?: unknown; schema?: Schema; message?: string; type?: number }
export type Plain = { param: string; message: string }

/** TypeBox's ValueErrorType for a property that is not in the schema. */
const ADDITIONAL_PROPERTY = 42

/** The value as the message shows it: always quoted, so 11 and "11" read the same. */
function shown(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'an object'
  return JSON.stringify(String(v))
}

const got = (v: unknown) => ` (got ${shown(v)})`

/** The number schema behind a field: itself, or the numeric branch of Elysia's coercing union. */
function numericOf(s: Schema): Schema | null {
  if (s.type === 'number' || s.type === 'integer') return s
  if (!Array.isArray(s.anyOf)) return null
  const branch = s.anyOf.find((b: Schema) => b.type === 'number' || b.type === 'integer')
  const others = s.anyOf.filter((b: Schema) => b !== branch)
  // t.Integer / t.Numeric in Elysia: a number, or a string holding one.
  const coercing = others.every((b: Schema) => b.type === 'string' && b.format)
  return branch && coercing ? { ...branch, ...pick(s) } : null
}

const pick = (s: Schema) => {
  const out: Schema = {}
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'])
    if (typeof s[k] === 'number') out[k] = s[k]
  return out
}

/** `between 0 and 10`, `at least 2`, `at most 365`, or '' without bounds. */
function range(s: Schema): string {
  const min = s.minimum ?? s.exclusiveMinimum
  const max = s.maximum ?? s.exclusiveMaximum
  const lo = s.exclusiveMinimum !== undefined ? `more than ${min}` : `at least ${min}`
  const hi = s.exclusiveMaximum !== undefined ? `less than ${max}` : `at most ${max}`
  if (min !== undefined && max !== undefined && s.exclusiveMinimum === undefined && s.exclusiveMaximum === undefined)
    return `between ${min} and ${max}`
  if (min !== undefined && max !== undefined) return `${lo} and ${hi}`
  if (min !== undefined) return lo
  if (max !== undefined) return hi
  return ''
}

function inRange(n: number, s: Schema): boolean {
  if (s.minimum !== undefined && n < s.minimum) return false
  if (s.maximum !== undefined && n > s.maximum) return false
  if (s.exclusiveMinimum !== undefined && n <= s.exclusiveMinimum) return false
  if (s.exclusiveMaximum !== undefined && n >= s.exclusiveMaximum) return false
  return true
}

function numberMessage(field: string, s: Schema, v: unknown): string {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN
  const whole = s.type === 'integer'
  const r = range(s)
  if (Number.isFinite(n) && !inRange(n, s)) return `${field} must be ${r}${got(v)}`
  if (Number.isFinite(n) && whole && !Number.isInteger(n))
    return `${field} must be a whole number${r ? ` ${r}` : ''}${got(v)}`
  if (Number.isFinite(n)) return `${field} must be a number, not text${got(v)}`
  const noun = whole ? 'a whole number' : 'a number'
  return `${field} must be ${noun}${r ? ` ${r}` : ''}${got(v)}`
}

/** A noun phrase for what a schema accepts: `text of at most 320 characters`, `null`, … */
function noun(s: Schema): string {
  const num = numericOf(s)
  if (num) {
    const r = range(num)
    return `${num.type === 'integer' ? 'a whole number' : 'a number'}${r ? ` ${r}` : ''}`
  }
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (Array.isArray(s.anyOf)) return [...new Set(s.anyOf.map(noun))].join(' or ')
  switch (s.type) {
    case 'string': {
      const len = lengthPhrase(s)
      return len ? `text of ${len}` : 'text'
    }
    case 'boolean':
      return 'true or false'
    case 'null':
      return 'null'
    case 'array':
      return 'a list'
    case 'object':
      return 'an object'
  }
  return 'a valid value'
}

function lengthPhrase(s: Schema): string {
  const { minLength: lo, maxLength: hi } = s
  if (lo !== undefined && hi !== undefined) return `${lo} to ${hi} characters`
  if (hi !== undefined) return `at most ${hi} characters`
  if (lo !== undefined) return `at least ${lo} characters`
  return ''
}

function stringMessage(field: string, s: Schema, v: unknown): string {
  if (typeof v !== 'string') return `${field} must be ${noun(s)}${got(v)}`
  if ((s.maxLength !== undefined && v.length > s.maxLength) || (s.minLength !== undefined && v.length < s.minLength))
    return `${field} must be ${lengthPhrase(s)} long (got ${v.length})`
  if (s.format) return `${field} must be ${s.format === 'email' ? 'an email address' : `in ${s.format} form`}${got(v)}`
  const why = s.description ? `: ${s.description}` : ''
  return `${field} is not in the expected form${why}${got(v)}`
}

/** One sentence for a field's error: what the field must be, and what was sent. */
export function plainMessage(field: string, e: ValueErrorLike): string {
  const s = e.schema ?? {}
  const v = e.value
  if (e.type === ADDITIONAL_PROPERTY) return `${field} is not a known field`
  if (v === undefined) return `${field} is required`
  const num = numericOf(s)
  if (num) return numberMessage(field, num, v)
  if (s.type === 'string') return stringMessage(field, s, v)
  if (s.type === 'array') {
    if (!Array.isArray(v)) return `${field} must be a list${got(v)}`
    if (s.maxItems !== undefined && v.length > s.maxItems)
      return `${field} must have at most ${s.maxItems} entries (got ${v.length})`
    if (s.minItems !== undefined && v.length < s.minItems)
      return `${field} must have at least ${s.minItems} entries (got ${v.length})`
  }
  return `${field} must be ${noun(s)}${got(v)}`
}

/** `/ModelLimits/gpt-4/rpm` → `ModelLimits.gpt-4.rpm`. */
const fieldOf = (path: string) =>
  path.replace(/^\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')

/**
 * Where a coerced value failed when Elysia reports it without its path (a numeric string that
 * became a number out of range): the first field of the body holding that value as text.
 */
function findField(body: unknown, value: unknown, at = ''): string {
  if (!body || typeof body !== 'object') return ''
  for (const [k, v] of Object.entries(body)) {
    const here = at ? `${at}.${k}` : k
    if (typeof v === 'string' && v.trim() !== '' && Number(v) === value) return here
    const deeper = typeof v === 'object' ? findField(v, value, here) : ''
    if (deeper) return deeper
  }
  return ''
}

/** The plain-word problem of an Elysia validation error; `body` is the request's parsed body. */
export function plainValidation(error: unknown, body?: unknown): Plain {
  const e = error as { all?: ValueErrorLike[]; valueError?: ValueErrorLike; type?: string }
  let first: ValueErrorLike | undefined
  try {
    first = e.valueError ?? e.all?.[0]
  } catch {
    first = undefined
  }
  const where = e.type === 'query' ? 'query parameter ' : e.type === 'params' ? 'path parameter ' : ''
  let param = first?.path ? fieldOf(first.path) : ''
  if (!param && e.type === 'property') param = findField(body, first?.value)
  if (!first) return { param: param || 'body', message: 'the request is not valid' }
  if (!param) {
    const m = plainMessage('the request body', first)
    return { param: 'body', message: m }
  }
  return { param, message: plainMessage(`${where}${param}`, first) }
}

const NUMERIC = /^\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/

/**
 * Top-level number fields sent as numeric text become numbers before validation, as integer
 * fields already do: `"CreditGranted": "1"` is then judged (and answered) as 1 would be.
 */
export function coerceNumbers(schema: Schema | undefined, body: unknown): void {
  const props = schema?.properties
  if (!props || !body || typeof body !== 'object' || Array.isArray(body)) return
  const obj = body as Record<string, unknown>
  for (const [k, s] of Object.entries(props as Record<string, Schema>)) {
    const v = obj[k]
    if (s.type === 'number' && typeof v === 'string' && NUMERIC.test(v)) obj[k] = Number(v)
  }
}
