// JSON Schema as the TypeBox models write it (2020-12 keywords) rewritten as the Schema Object of
// OpenAPI 3.0.3, which is what xgate's document declares: const → enum, type arrays and null
// branches → nullable, numeric strings beside their number → the number, exclusive bounds → the
// 3.0 booleans, patternProperties → additionalProperties. Pure: the input is never changed.

export type Obj = Record<string, any>

const KEYWORDS = new Set([
  'title',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'enum',
  'type',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'items',
  'properties',
  'additionalProperties',
  'description',
  'format',
  'default',
  'nullable',
  'discriminator',
  'readOnly',
  'writeOnly',
  'xml',
  'externalDocs',
  'example',
  'deprecated',
  '$ref',
])

const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean'])

/** Type names TypeBox and Elysia use outside JSON Schema, as 3.0 types. */
const OTHER_TYPES: Record<string, Obj> = {
  Date: { type: 'string', format: 'date-time' },
  Uint8Array: { type: 'string', format: 'binary' },
  bigint: { type: 'integer' },
  symbol: { type: 'string' },
}

export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const mapValues = (o: unknown, f: (v: unknown) => unknown): Obj =>
  isObj(o) ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)])) : {}

/** One schema in 3.0 form; children first, so every rule below sees converted branches. */
export function toSchema30(input: unknown): Obj {
  return convert(input, false)
}

/** A lone `null` (no union to join) has no 3.0 type: it is written as a nullable enum of null. */
const LONE_NULL = { type: 'string', nullable: true, enum: [null] }

function convert(input: unknown, inUnion: boolean): Obj {
  if (input === true || input === undefined) return {}
  if (input === false) return { not: {} }
  if (!isObj(input)) return {}
  let s: Obj = {}
  for (const [k, v] of Object.entries(input)) {
    if (k === 'properties' || k === 'patternProperties') s[k] = mapValues(v, toSchema30)
    else if (k === 'items' || k === 'prefixItems')
      s.items = Array.isArray(v) ? union(v.map(toSchema30)) : toSchema30(v)
    else if (k === 'additionalProperties') s[k] = typeof v === 'boolean' ? v : toSchema30(v)
    else if (k === 'anyOf' || k === 'oneOf' || k === 'allOf')
      s[k] = Array.isArray(v) ? v.map((b) => convert(b, true)) : []
    else if (k === 'not') s[k] = toSchema30(v)
    else s[k] = v
  }
  s = fromConst(s)
  s = fromTypeArray(s)
  s = fromOtherType(s)
  s = fromPatternProperties(s)
  s = fromExclusiveBounds(s)
  if (Array.isArray(s.examples)) {
    if (s.example === undefined && s.examples.length > 0) s.example = s.examples[0]
  }
  for (const k of ['anyOf', 'oneOf'] as const) if (Array.isArray(s[k])) s = simplifyUnion(s, k)
  if (Array.isArray(s.required) && s.required.length === 0) delete s.required
  if (s.type === 'null' && !inUnion) s = { ...s, ...LONE_NULL }
  return pick(s)
}

/** Only the keywords of the 3.0 Schema Object (and x- extensions) are kept. */
function pick(s: Obj): Obj {
  const out: Obj = {}
  for (const [k, v] of Object.entries(s))
    if (v !== undefined && (KEYWORDS.has(k) || k.startsWith('x-'))) out[k] = v
  return out
}

function union(branches: Obj[]): Obj {
  return branches.length === 1 ? branches[0]! : { anyOf: branches }
}

function typeOfValue(v: unknown): string | undefined {
  if (typeof v === 'string') return 'string'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  if (Array.isArray(v)) return 'array'
  if (isObj(v)) return 'object'
  return undefined
}

function fromConst(s: Obj): Obj {
  if (!('const' in s)) return s
  const { const: value, ...rest } = s
  if (value === null) return { ...rest, type: 'null' }
  return { ...rest, type: rest.type ?? typeOfValue(value), enum: [value] }
}

function fromTypeArray(s: Obj): Obj {
  if (!Array.isArray(s.type)) return s
  const types = s.type.filter((t: unknown) => t !== 'null')
  const nullable = types.length < s.type.length
  const { type: _, ...rest } = s
  if (types.length === 1) return { ...rest, type: types[0], ...(nullable ? { nullable } : {}) }
  if (types.length === 0) return { ...rest, type: 'null' }
  const branches = types.map((t: string) => (nullable ? { type: t, nullable } : { type: t }))
  return { ...rest, anyOf: branches }
}

function fromOtherType(s: Obj): Obj {
  if (typeof s.type !== 'string' || TYPES.has(s.type) || s.type === 'null') return s
  const known = OTHER_TYPES[s.type]
  const { type: _, ...rest } = s
  return known ? { ...rest, ...known } : rest
}

function fromPatternProperties(s: Obj): Obj {
  if (!isObj(s.patternProperties)) return s
  const { patternProperties, ...rest } = s
  const values: Obj[] = Object.values(patternProperties)
  if (isObj(rest.additionalProperties)) values.push(rest.additionalProperties)
  if (values.length === 0) return rest
  const only = union(values)
  return {
    ...rest,
    type: rest.type ?? 'object',
    additionalProperties: Object.keys(only).length ? only : true,
  }
}

function fromExclusiveBounds(s: Obj): Obj {
  const out = { ...s }
  if (typeof out.exclusiveMinimum === 'number') {
    const bound = out.exclusiveMinimum
    if (typeof out.minimum === 'number' && out.minimum > bound) delete out.exclusiveMinimum
    else Object.assign(out, { minimum: bound, exclusiveMinimum: true })
  }
  if (typeof out.exclusiveMaximum === 'number') {
    const bound = out.exclusiveMaximum
    if (typeof out.maximum === 'number' && out.maximum < bound) delete out.exclusiveMaximum
    else Object.assign(out, { maximum: bound, exclusiveMaximum: true })
  }
  return out
}

const NUMERIC_STRING = new Set(['integer', 'numeric', 'number'])
/** Keys that make a branch more than "one of these values". */
const isEnumOnly = (b: Obj) =>
  Array.isArray(b.enum) && Object.keys(b).every((k) => ['enum', 'type', 'description'].includes(k))

/**
 * anyOf/oneOf as a 3.0 reader expects it: nested unions flattened, `null` branches turned into
 * `nullable`, a numeric string beside its number (query values) read as the number, and
 * branches of one value each of one type merged into an enum. One branch left: no union at all.
 */
function simplifyUnion(s: Obj, key: 'anyOf' | 'oneOf'): Obj {
  const { [key]: raw, ...rest } = s
  let branches: Obj[] = []
  for (const b of raw as Obj[]) {
    const nested = b.anyOf ?? b.oneOf
    const onlyNested = Object.keys(b).every(
      (k) => k === 'anyOf' || k === 'oneOf' || k === 'description' || k === 'nullable',
    )
    if (Array.isArray(nested) && onlyNested) {
      branches.push(...nested)
      if (b.nullable) branches.push({ type: 'null' })
    } else branches.push(b)
  }
  let nullable = branches.some((b) => b.type === 'null')
  branches = branches.filter((b) => b.type !== 'null')
  for (const b of branches) if (b.nullable === true) nullable = true
  const numbers = branches.filter((b) => b.type === 'integer' || b.type === 'number')
  if (numbers.length > 0)
    branches = branches.filter((b) => !(b.type === 'string' && NUMERIC_STRING.has(b.format)))
  if (
    branches.length > 1 &&
    branches.every(isEnumOnly) &&
    new Set(branches.map((b) => b.type)).size === 1
  )
    branches = [{ type: branches[0]!.type, enum: branches.flatMap((b) => b.enum) }]
  const nullMark = nullable ? { nullable: true } : {}
  if (branches.length === 0) return nullable ? { ...rest, ...LONE_NULL } : rest
  if (branches.length === 1) {
    const { description, ...branch } = branches[0]!
    const merged: Obj = { ...branch, ...rest, ...nullMark }
    if (merged.description === undefined && description !== undefined)
      merged.description = description
    if (nullable && Array.isArray(merged.enum) && !merged.enum.includes(null))
      merged.enum = [...merged.enum, null]
    return merged
  }
  const marked = nullable ? branches.map((b) => (b.type ? { ...b, nullable: true } : b)) : branches
  return { ...rest, [key]: marked }
}
