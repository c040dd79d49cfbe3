// The OpenAPI document the swagger plugin builds, made into a valid and usable 3.0.3 document:
// schemas in 3.0 form, JSON-only admin bodies with the XAI reference's examples, a description
// and the error answers on every operation, unique operationIds, tags grouped as users look for
// them, and a server entry so the page's curl samples are complete. Pure: document in, out.
import { BODY_EXAMPLES, PATH_EXAMPLES, PATH_EXAMPLES_BY_PATH, XGATE_EXAMPLES } from './examples'
import { ERROR_SCHEMAS, errorRef, errorResponses, errorStatuses, isProxied } from './errors'
import { isObj, toSchema30, type Obj } from './schema'
import { tagOf, tagsFor } from './tags'

export type DocOptions = {
  /** Today as YYYY-MM-DD (UTC), for the rotation examples' `confirm`. */
  today?: string
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '204': 'No content',
  '206': 'Partial content',
  '301': 'Moved',
  '302': 'Found',
  '304': 'Not modified',
}

export function toOpenApi30(input: Obj, options: DocOptions = {}): Obj {
  const doc: Obj = JSON.parse(JSON.stringify(input))
  const paths: Obj = {}
  const refs = new Set<string>()
  const ids = new Set<string>()
  // `/x-keys/` and `/x-keys` are one route to a reader: a trailing slash is folded into the bare
  // path (bare paths first, so theirs is the operation kept) and the bare one says so.
  const slashed = (p: string) => p.length > 1 && p.endsWith('/')
  const entries = Object.entries(doc.paths ?? {}).sort(
    ([a], [b]) => Number(slashed(a)) - Number(slashed(b)),
  )
  for (const [rawPath, item] of entries) {
    if (!isObj(item)) continue
    const path = slashed(rawPath) ? rawPath.slice(0, -1) : rawPath
    const target: Obj = (paths[path] ??= {})
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method) || !isObj(op)) continue
      if (!target[method])
        target[method] = operation(path, method, op, { refs, ids, today: options.today })
      else if (path !== rawPath)
        target[method].description = alsoAt(target[method].description, rawPath)
    }
  }
  return {
    openapi: '3.0.3',
    info: doc.info,
    servers: [{ url: '/', description: 'this xgate server' }],
    ...(doc.security ? { security: doc.security } : {}),
    tags: tagsFor(paths),
    paths,
    components: {
      ...(doc.components?.securitySchemes
        ? { securitySchemes: doc.components.securitySchemes }
        : {}),
      schemas: {
        ...Object.fromEntries(
          Object.entries(doc.components?.schemas ?? {}).map(([k, v]) => [k, toSchema30(v)]),
        ),
        ...ERROR_SCHEMAS,
      },
      responses: errorResponses(refs),
    },
  }
}

const alsoAt = (description: unknown, path: string) =>
  `${typeof description === 'string' && description ? `${description} ` : ''}Also answered at \`${path}\`.`

type Ctx = { refs: Set<string>; ids: Set<string>; today?: string }

function operation(path: string, method: string, input: Obj, ctx: Ctx): Obj {
  const op: Obj = { ...input }
  const tag = tagOf(path)
  if (tag) op.tags = [tag]
  if (!op.summary) op.summary = `${method.toUpperCase()} ${path}`
  op.operationId = uniqueId(op.operationId ?? `${method}${path}`, ctx.ids)
  const parameters = params(path, Array.isArray(op.parameters) ? op.parameters : [])
  if (parameters.length) op.parameters = parameters
  else delete op.parameters
  if (isObj(op.requestBody)) op.requestBody = requestBody(path, method, op.requestBody, ctx.today)
  op.responses = responses(isObj(op.responses) ? op.responses : {})
  for (const status of errorStatuses(path, method, op)) {
    if (op.responses[status]) continue
    const ref = errorRef(status, path)
    ctx.refs.add(ref.$ref)
    op.responses[status] = ref
  }
  return op
}

/** `postX-users` and `getV1ChatCompletions` as camel case, made unique with a number. */
function uniqueId(raw: string, ids: Set<string>): string {
  const base =
    raw.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')) ||
    'operation'
  let id = base
  for (let n = 2; ids.has(id); n++) id = `${base}${n}`
  ids.add(id)
  return id
}

const pathExample = (path: string, name: string): string | undefined =>
  PATH_EXAMPLES_BY_PATH[path]?.[name] ?? PATH_EXAMPLES[name]

/** Parameters in 3.0 form: one per place and name, path ones required and declared by the path. */
function params(path: string, list: Obj[]): Obj[] {
  const inPath = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]))
  const seen = new Set<string>()
  const out: Obj[] = []
  for (const raw of list) {
    if (!isObj(raw) || typeof raw.name !== 'string') continue
    const key = `${raw.in}:${raw.name}`
    if (seen.has(key) || (raw.in === 'path' && !inPath.has(raw.name))) continue
    seen.add(key)
    const { examples, example, ...p } = raw
    const schema = toSchema30(p.schema)
    const param: Obj = { ...p, schema, ...(p.in === 'path' ? { required: true } : {}) }
    if (!param.description && schema.description) param.description = schema.description
    if (param.description === undefined) delete param.description
    const first = example ?? (Array.isArray(examples) ? examples[0] : undefined)
    const sample = p.in === 'path' ? pathExample(path, p.name) : undefined
    if (first !== undefined || sample !== undefined) param.example = first ?? sample
    out.push(param)
  }
  for (const name of inPath)
    if (!seen.has(`path:${name}`))
      out.unshift({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
        ...(pathExample(path, name) ? { example: pathExample(path, name) } : {}),
      })
  return out
}

/** Admin bodies are JSON only; a proxied body keeps the media type its endpoint takes. */
function requestBody(path: string, method: string, body: Obj, today?: string): Obj {
  const content: Obj = isObj(body.content) ? body.content : {}
  let media: Obj
  if (isProxied(path)) media = content
  else {
    const json = content['application/json'] ?? Object.values(content)[0]
    media = json ? { 'application/json': json } : {}
  }
  const out: Obj = {}
  for (const [type, m] of Object.entries(media)) {
    const entry: Obj = { schema: toSchema30(isObj(m) ? m.schema : undefined) }
    // A body passed through untouched is still one JSON object (multipart: its form fields).
    if (!entry.schema.type && !entry.schema.$ref && !entry.schema.anyOf)
      entry.schema.type = 'object'
    if (isObj(m) && m.example !== undefined) entry.example = m.example
    out[type] = entry
  }
  const key = `${method.toUpperCase()} ${path}`
  const sample = BODY_EXAMPLES[key] ?? XGATE_EXAMPLES[key]
  if (sample !== undefined && out['application/json'])
    out['application/json'].example = withToday(sample, today)
  return { ...body, content: out }
}

function withToday(value: unknown, today = new Date().toISOString().slice(0, 10)): unknown {
  return JSON.parse(JSON.stringify(value).replaceAll('{today}', today))
}

/** Every answer described; JSON answers keep only their JSON form; at least one 2xx. */
function responses(input: Obj): Obj {
  const out: Obj = {}
  for (const [status, raw] of Object.entries(input)) {
    if (!isObj(raw)) continue
    if (raw.$ref) {
      out[status] = raw
      continue
    }
    const r: Obj = { description: raw.description || STATUS_TEXT[status] || 'Answer' }
    for (const k of ['headers', 'content', 'links']) if (raw[k] !== undefined) r[k] = raw[k]
    for (const k of Object.keys(raw)) if (k.startsWith('x-')) r[k] = raw[k]
    if (isObj(r.content)) {
      const content = r.content['application/json']
        ? { 'application/json': r.content['application/json'] }
        : r.content
      const media: Obj = {}
      for (const [type, m] of Object.entries(content))
        media[type] = isObj(m) ? { ...m, schema: toSchema30(m.schema) } : { schema: {} }
      if (Object.keys(media).length) r.content = media
      else delete r.content
    }
    out[status] = r
  }
  if (!Object.keys(out).some((s) => s.startsWith('2'))) out['200'] = { description: 'OK' }
  return out
}
