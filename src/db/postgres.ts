// The PostgreSQL engine behind the SQL seam: Bun's built-in client (`Bun.sql`, no driver), a small
// pool, `?` placeholders rewritten once per statement text to `$n`. bigint columns are read as
// BigInt and handed on as numbers only when they are safe integers, so money never becomes a
// float or a string. A lost connection becomes StoreUnavailableError (admin calls answer 503).
import { SQL } from 'bun'
import { AppError } from '../shared/errors'
import { StoreUnavailableError, type Row, type Sql, type SqlDb, type Tx } from './sql'

type Args = readonly unknown[] | undefined
type Client = InstanceType<typeof SQL>

const texts = new Map<string, string>()

/** `?` → `$1, $2…` and `?NNN` → `$NNN`, outside quoted strings and identifiers. */
export function toPositional(text: string): string {
  const hit = texts.get(text)
  if (hit !== undefined) return hit
  let out = ''
  let n = 0
  let quote: string | null = null
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote) {
      out += c
      if (c === quote) quote = null
      continue
    }
    if (c === "'" || c === '"') {
      quote = c
      out += c
      continue
    }
    if (c !== '?') {
      out += c
      continue
    }
    let digits = ''
    while (i + 1 < text.length && /[0-9]/.test(text[i + 1]!)) digits += text[++i]
    out += digits ? `$${digits}` : `$${++n}`
  }
  texts.set(text, out)
  return out
}

/** A row with its bigint (and int8 count) values as checked numbers. */
function numbered<T>(row: Record<string, unknown>): T {
  for (const k in row) {
    const v = row[k]
    if (typeof v === 'bigint') {
      const n = Number(v)
      if (!Number.isSafeInteger(n)) throw new RangeError(`${k} = ${v} is beyond a safe integer`)
      row[k] = n
    }
  }
  return row as T
}

/**
 * Parameters as PostgreSQL takes them: undefined is NULL. PostgreSQL text cannot hold U+0000
 * (SQLite's can): such a value is refused as bad input, never sent.
 */
const params = (args: Args) =>
  (args ?? []).map((a) => {
    if (a === undefined) return null
    if (typeof a === 'string' && a.includes('\u0000')) {
      throw new AppError('bad_request', 'text must not contain the NUL character (U+0000)')
    }
    return a
  })

const CONNECTION_CODES = /^(08|57P0[1-3]|53300)/

/** Whether an error means the database is out of reach rather than a statement's fault. */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; errno?: string; message?: string }
  if (typeof err?.errno === 'string' && CONNECTION_CODES.test(err.errno)) return true
  const code = err?.code ?? ''
  if (code === 'ERR_POSTGRES_SERVER_ERROR' || code === 'ERR_POSTGRES_SYNTAX_ERROR') return false
  if (code.startsWith('ERR_POSTGRES_')) return /CONNECTION|TIMEOUT|CLOSED|TLS|AUTH/.test(code)
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection closed/i.test(String(err?.message ?? code))
}

function unavailable(e: unknown): never {
  if (isConnectionError(e)) throw new StoreUnavailableError(`PostgreSQL is unreachable: ${(e as Error).message}`)
  throw e
}

function over(client: Pick<Client, 'unsafe'>): Sql {
  const q = async (text: string, args: Args): Promise<Row[]> => {
    try {
      return (await client.unsafe(toPositional(text), params(args) as never[])) as Row[]
    } catch (e) {
      return unavailable(e)
    }
  }
  return {
    engine: 'postgres',
    all: async <T>(text: string, args?: Args) => (await q(text, args)).map((r) => numbered<T>(r)),
    async get<T>(text: string, args?: Args) {
      const rows = await q(text, args)
      return rows.length ? numbered<T>(rows[0]!) : undefined
    },
    async run(text: string, args?: Args) {
      const r = (await q(text, args)) as unknown as { count?: number }
      return Number(r.count ?? 0)
    },
    async exec(text: string) {
      try {
        await client.unsafe(text)
      } catch (e) {
        unavailable(e)
      }
    },
  }
}

/** The PostgreSQL URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://…'
  }
}

export function postgresSql(url: string, opts: { max?: number } = {}): SqlDb & { client: Client } {
  const client = new SQL({
    url,
    bigint: true,
    max: opts.max ?? 8,
    idleTimeout: 30,
    connectionTimeout: 5,
  })
  const base = over(client)
  return {
    ...base,
    where: redactUrl(url),
    client,
    async tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      try {
        return (await client.begin((t) => fn(over(t)))) as T
      } catch (e) {
        return unavailable(e)
      }
    },
    async close() {
      await client.close({ timeout: 5 })
    },
  }
}
