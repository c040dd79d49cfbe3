// Generators of bad input for xgate's fuzz tests (values, JSON texts that JSON.stringify cannot
// write, identifiers, dates, list edits, multipart) and the checks every answer must pass.
import type { TSchema } from '@sinclair/typebox'
import fc from 'fast-check'
import type { TestGateway } from '../helpers/gateway'
import { diffSnapshots, snapshot } from '../helpers/snapshot'

/** JSON text written as is: `1e309`, `-0`, a 30-digit integer, deep nesting. */
export class Raw {
  constructor(readonly text: string) {}
}
/** A JSON object as entries, so keys like `__proto__` stay ordinary keys. */
export class JObj {
  constructor(readonly entries: Array<[string, unknown]>) {}
}

export function toJson(v: unknown): string {
  if (v instanceof Raw) return v.text
  if (v instanceof JObj)
    return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`
  return JSON.stringify(v) ?? 'null'
}

/** encodeURIComponent that never throws: a lone surrogate goes out as U+FFFD's bytes. */
export function pct(s: string): string {
  let out = ''
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b)
    out += /[A-Za-z0-9\-_.!~*'()]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

export const nastyString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e309',
    'null',
    'true',
    '0x1F',
    '1_000',
    '١٢٣',
    ' 12 ',
    '-*',
    '*',
    '-',
    ' ,, ',
    '\u0000',
    '\ud800',
    '\u202e',
    '😀',
    '<script>alert(1)</script>',
    "'; DROP TABLE accounts; --",
    '../../etc/passwd',
    '%00',
    '${7*7}',
    'root',
    'L1',
    'G-1',
    '.1.',
    '.1..',
    'a@b',
    '@',
    'x'.repeat(1000),
    '😀'.repeat(300),
    'constructor',
    '__proto__',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
)

const numberText = fc.constantFrom(
  '1e309',
  '-1e309',
  '1e-400',
  '123456789012345678901234567890',
  '-0',
  '9007199254740993',
  '1E2',
  '0.1e1',
  '-4.5',
)

export const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 53, -(2 ** 53), 2 ** 31, 1e21, 0.1, 1.005, -1e-9, Number.MAX_VALUE),
  numberText.map((t) => new Raw(t)),
)

const depth = fc.integer({ min: 20, max: 6000 })
export const deepNesting = fc.oneof(
  depth.map((n) => new Raw('['.repeat(n) + ']'.repeat(n))),
  depth.map((n) => new Raw('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
)

export const extraKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'id',
    'ID',
  ),
  fc.string({ maxLength: 12 }),
)

export const { nasty } = fc.letrec<{ nasty: unknown }>((tie) => ({
  nasty: fc.oneof(
    { depthSize: 'small' },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    deepNesting,
    fc.array(tie('nasty'), { maxLength: 3 }),
    fc
      .array(fc.tuple(extraKey, tie('nasty')), { maxLength: 3 })
      .map((e) => new JObj(e as Array<[string, unknown]>)),
  ),
}))

type Schemaish = TSchema & {
  type?: string
  anyOf?: Schemaish[]
  const?: unknown
  items?: Schemaish
  properties?: Record<string, Schemaish>
  minimum?: number
  maximum?: number
}

/** Values of the right type (often valid), so requests also get past validation. */
export function plausible(
  s: Schemaish | undefined,
  words: readonly string[] = [],
): fc.Arbitrary<unknown> {
  if (!s) return nasty
  if (s.const !== undefined) return fc.constant(s.const)
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => plausible(x, words)))
  switch (s.type) {
    case 'string':
      return fc.oneof(
        fc.constantFrom(
          'plain-name',
          'a@example.com',
          'https://example.com',
          '1.2.3.4',
          '*',
          ...words,
        ),
        fc.stringMatching(/^[a-z][a-z0-9-]{3,12}$/),
      )
    case 'integer':
      return fc.integer({ min: s.minimum ?? -5, max: Math.min(s.maximum ?? 1000, 1e6) })
    case 'number':
      return fc.double({ min: s.minimum ?? -5, max: Math.min(s.maximum ?? 1000, 1e6), noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'array':
      return fc.array(plausible(s.items, words), { maxLength: 3 })
    case 'object':
      return objectFor(s, words)
  }
  return nasty
}

const OMIT = Symbol('omit')

/** An object over a schema's fields: each left out, plausible or bad; maybe extra keys. */
export function objectFor(
  s: Schemaish | undefined,
  words: readonly string[] = [],
  keys: readonly string[] = [],
) {
  const fields = Object.entries(s?.properties ?? {}).map(([k, sub]) => [k, sub] as const)
  for (const k of keys) if (!fields.some(([f]) => f === k)) fields.push([k, undefined as never])
  const each = fields.map(([k, sub]) =>
    fc
      .oneof(
        { weight: 2, arbitrary: fc.constant(OMIT) },
        { weight: 6, arbitrary: plausible(sub, words) },
        { weight: 1, arbitrary: nasty },
      )
      .map((v) => [k, v] as [string, unknown]),
  )
  const extras = fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(extraKey, nasty), { minLength: 1, maxLength: 2 }) },
  )
  return fc.tuple(fc.tuple(...each), extras).map(([own, extra]) => {
    const kept = own.filter(([, v]) => v !== OMIT)
    return new JObj([...kept, ...(extra as Array<[string, unknown]>)])
  })
}

/** A request body: mostly JSON over the schema, else other JSON, broken JSON or bad bytes. */
export function bodyText(obj: fc.Arbitrary<unknown>): fc.Arbitrary<string | Uint8Array> {
  const json = obj.map(toJson)
  return fc.oneof(
    { weight: 16, arbitrary: json },
    { weight: 1, arbitrary: nasty.map(toJson) },
    {
      weight: 2,
      arbitrary: fc.tuple(json, fc.nat()).map(([t, n]) => t.slice(0, n % Math.max(1, t.length))),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '}',
        '{"a":}',
        "{'a':1}",
        '{"a":NaN}',
        '{"a":1,}',
        '\ufeff{}',
        '{} x',
        '/*c*/{}',
        'null',
        '[]',
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  )
}

export const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/JSON',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=zz',
      'multipart/form-data',
      'application/octet-stream',
      'application/xml',
      '',
    ),
  },
)

/** Path identifiers that name nobody or nothing sensible; some with raw bad %-escapes. */
export const badIdent = fc.oneof(
  fc
    .constantFrom(
      '0',
      '-1',
      '1.5',
      '1e309',
      '999999999999999999999',
      '.1..',
      '.1.-2.',
      '.1.2.3.4.5.6.7.8.',
      '.',
      '..',
      'L',
      'L1e309',
      'L-1',
      'G99999999999999999999',
      'F1.5',
      'FNaN',
      'R',
      '@',
      'a@',
      '@b',
      'nobody-at-all',
      ' 1',
      'x'.repeat(400),
      '😀',
    )
    .map(pct),
  nastyString.map(pct),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%FF', '%00', '%2e%2e'),
)

/** Calendar days as written by hand: valid, impossible, out of range, other formats. */
export const dateText = fc.oneof(
  fc
    .date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom(
    '2024-02-30',
    '2023-02-29',
    '2023-13-01',
    '2024-00-10',
    '2024-01-32',
    '99999-01-01',
    '-0001-01-01',
    '2024-1-1',
    '2024/01/01',
    '20240101',
    'today',
    '2024-01-01T00:00:00Z',
    '1e309',
    '',
    '0000-00-00',
  ),
)

/** A query string over the schema's parameters, with repeats, unknown keys and raw bytes. */
export function queryFor(s: Schemaish | undefined): fc.Arbitrary<string> {
  const names = Object.keys(s?.properties ?? {})
  const key = names.length ? fc.oneof(fc.constantFrom(...names), extraKey) : extraKey
  const value = fc.oneof(
    dateText.map(pct),
    nastyString.map(pct),
    numberText.map(pct),
    fc.integer().map(String),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '+', '%20', ''),
  )
  return fc
    .array(fc.tuple(key, value), { maxLength: 5 })
    .map((pairs) => pairs.map(([k, v]) => `${pct(k)}=${v}`).join('&'))
}

/** List-field edits (AllowIPs, AllowModels, AllowLevels, Resources) as text or arrays. */
const LIST_GOOD: Record<string, string[]> = {
  AllowIPs: [
    '1.2.3.4',
    '10.0.0.0/8',
    '::1',
    '0.0.0.0/0',
    '::/0',
    '2001:db8::/32',
    '::ffff:1.2.3.4',
  ],
  AllowModels: ['gpt-*', 'claude-*', 'gpt-4o-mini', '*-mini', 'text-embedding-3-small'],
  AllowLevels: ['0', '1', '2', '10'],
  Resources: ['/v1/chat/completions', '/v1/*', '/v1/messages', '/v1/models'],
}
const LIST_BAD = [
  '10.0.0.0/33',
  '2001:db8::/129',
  '256.1.1.1',
  '1.2.3',
  'fe80::1%eth0',
  'localhost',
  '1.2.3.4/-1',
  '1.2.3.4/',
  '/8',
  '1::2::3',
  '**',
  '11',
  '-1',
  '1e309',
  'NaN',
  '--1.2.3.4',
  '-',
]
export const listField = fc.constantFrom(...Object.keys(LIST_GOOD))

export function listEdit(field: string): fc.Arbitrary<unknown> {
  const good = fc.constantFrom(...LIST_GOOD[field]!)
  const token = fc.oneof(
    { weight: 6, arbitrary: good },
    { weight: 2, arbitrary: good.map((t) => `-${t}`) },
    { weight: 2, arbitrary: fc.constantFrom('*', '-*') },
    { weight: 2, arbitrary: fc.constantFrom(...LIST_BAD) },
    { weight: 1, arbitrary: nastyString },
  )
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          fc.array(token, { minLength: 1, maxLength: 5 }),
          fc.constantFrom(' ', ',', ', ', '  '),
        )
        .map(([t, sep]) => t.join(sep)),
    },
    { weight: 2, arbitrary: fc.array(token, { maxLength: 4 }) },
    { weight: 1, arbitrary: nasty },
  )
}

const LEAKS: Array<[string, RegExp]> = [
  ['a source path', /\/work\/|node_modules|\.ts:\d|\.m?js:\d/],
  ['a stack frame', /^\s+at .+[(:]/m],
]

export type Sent = {
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array | ReadableStream<Uint8Array>
}
export type Got = { status: number; text: string; contentType: string | null }

export function describeSent(s: Sent): string {
  const cut = (t: string) => (t.length > 400 ? `${t.slice(0, 400)}…(${t.length})` : t)
  const body =
    typeof s.body === 'string'
      ? JSON.stringify(cut(s.body))
      : s.body instanceof Uint8Array
        ? `bytes ${Buffer.from(s.body).toString('hex').slice(0, 200)}`
        : s.body
          ? 'a chunked stream'
          : ''
  return `${s.method} ${s.path} [${s.headers['content-type'] ?? 'no content-type'}] ${body}`
}

/** What is wrong with an answer: a 5xx, a leak, an error outside the error shape. */
export function answerProblems(sent: Sent, got: Got, opts: { allow5xx?: boolean } = {}): string[] {
  const out: string[] = []
  if (got.status >= 500 && !opts.allow5xx) out.push(`status ${got.status}`)
  const asked = typeof sent.body === 'string' ? sent.body + sent.path : sent.path
  for (const [what, re] of LEAKS)
    if (re.test(got.text) && !re.test(asked)) out.push(`shows ${what}`)
  if (got.status < 400) return out
  if (!got.contentType?.includes('application/json')) out.push(`content-type ${got.contentType}`)
  let e: any
  try {
    e = JSON.parse(got.text)
  } catch {
    return [...out, 'error body is not JSON']
  }
  const anthropic = sent.path.startsWith('/v1/messages')
  const ok = anthropic
    ? e?.type === 'error' &&
      typeof e.error?.type === 'string' &&
      typeof e.error?.message === 'string'
    : typeof e?.error?.message === 'string' &&
      typeof e.error.type === 'string' &&
      typeof e.error.code === 'string'
  if (!ok) out.push(`not the ${anthropic ? 'Anthropic ' : ''}error shape`)
  return out
}

/**
 * Sends one request to the gateway with the write-behind flushed before and after, and returns
 * the answer and the tables it changed.
 */
export async function fire(gw: TestGateway, sent: Sent): Promise<{ got: Got; changed: string[] }> {
  await gw.deps.flusher.flushNow()
  const before = await snapshot(gw.deps.sql)
  const res = await fetch(gw.url + sent.path, {
    method: sent.method,
    headers: sent.headers,
    body: sent.body,
    duplex: 'half',
  } as RequestInit)
  const text = await res.text()
  await gw.deps.flusher.flushNow()
  const changed = diffSnapshots(before, await snapshot(gw.deps.sql))
  return {
    got: { status: res.status, text, contentType: res.headers.get('content-type') },
    changed,
  }
}

/** Throws (for fast-check to shrink and report) when the answer or the state is wrong. */
export function verdict(
  sent: Sent,
  got: Got,
  changed: string[],
  opts: { allow5xx?: boolean } = {},
) {
  const problems = answerProblems(sent, got, opts)
  if (got.status >= 400 && changed.length) problems.push(`changed ${changed.join('; ')}`)
  if (problems.length) {
    throw new Error(
      `${problems.join(', ')}\n  request: ${describeSent(sent)}\n` +
        `  answer: ${got.status} ${got.text.slice(0, 600)}`,
    )
  }
}

/** Fixed seeds keep runs repeatable; XGATE_FUZZ_SEED explores others (printed on failure). */
export function seedFor(base: number): number {
  const env = process.env.XGATE_FUZZ_SEED
  return env ? Number(env) + base : base
}
