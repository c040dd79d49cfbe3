// The only reader of process.env, command-line flags and the config file. Precedence, highest
// first: flags, environment, the JSON file named by --config / CONFIG_FILE, built-in defaults.
import { Type as T, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { readFileSync } from 'node:fs'

const Int = (min: number, max: number, def: number) => T.Integer({ minimum: min, maximum: max, default: def })
const Usd = (def: number) => T.Number({ minimum: 0, maximum: 1_000_000, default: def })
const Str = (def?: string) => (def === undefined ? T.Optional(T.String()) : T.String({ default: def }))

export const ConfigSchema = T.Object({
  HOST: Str('0.0.0.0'),
  PORT: Int(0, 65535, 3443),
  DATA_DIR: T.String({ minLength: 1, default: './data' }),
  DATABASE_URL: Str(),
  REDIS_URL: Str(),
  NODES: Int(1, 1_000, 1),
  NODE_ID: Str(),
  REDIS_COMMAND_TIMEOUT_MS: Int(10, 10_000, 250),
  SLOT_LEASE_MS: Int(1_000, 3_600_000, 30_000),
  RECONCILE_MS: Int(1_000, 86_400_000, 60_000),
  TZ: Str(),
  INIT_USERS: Str(),
  INIT_KEYS: Str(),
  MODEL_MAPPER: Str(),
  MODEL_PROVIDERS: Str(),
  LEVEL_MAPPER: Str(),
  SWITCH_OVER: Str(),
  RESOURCES: Str(),
  MODEL_LIMITS: Str(),
  MODEL_PRICES: Str(),
  ALLOW_UNPRICED_MODELS: T.Boolean({ default: false }),
  USER_MIN_BALANCE: Usd(2),
  CALL_MIN_BALANCE: Usd(1),
  HOLD_DEFAULT_OUTPUT_TOKENS: Int(1, 10_000_000, 16_384),
  USER_API_MIN_BALANCE: Usd(20),
  EMAIL_BALANCE: Usd(3),
  EMAIL_SMTP: Str(),
  EMAIL_PORT: T.Optional(T.Integer({ minimum: 1, maximum: 65535 })),
  EMAIL_AUTH: Str(),
  EMAIL_PASS: Str(),
  EMAIL_SENDER: Str(),
  EMAIL_TLS: T.Optional(T.Boolean()),
  XAI_MAIL: Str(),
  FLUSH_INTERVAL_MS: Int(10, 60_000, 200),
  FLUSH_MAX_ROWS: Int(100, 1_000_000, 5_000),
  WRITE_BEHIND_MAX_ROWS: Int(100, 10_000_000, 100_000),
  LOG_FILE: Str(),
  LOG_LEVEL: T.Union([T.Literal('debug'), T.Literal('info'), T.Literal('warn'), T.Literal('error')], {
    default: 'info',
  }),
  TRUST_PROXY: Str(),
  UPSTREAM_TIMEOUT_MS: Int(1_000, 3_600_000, 600_000),
  FIRST_BYTE_TIMEOUT_MS: Int(100, 600_000, 60_000),
  TRIES_PER_LEVEL: Int(1, 10, 3),
  MAX_BODY_BYTES: Int(1_024, 256 * 1024 * 1024, 32 * 1024 * 1024),
  ADMIN_MAX_BODY_BYTES: Int(1_024, 16 * 1024 * 1024, 1024 * 1024),
  /** A body's time to arrive: admin bodies whole; proxied ones then at 16 KiB/s at least. */
  BODY_TIMEOUT_MS: Int(10, 3_600_000, 30_000),
  USAGE_RETENTION_DAYS: Int(1, 3_650, 90),
  SHUTDOWN_GRACE_MS: Int(0, 600_000, 10_000),
  API_LISTEN: Str('127.0.0.1:10085'),
  API_SERVICES: T.Array(T.String(), { default: [] }),
  API_TOKEN: Str(),
})

export type Config = Readonly<Static<typeof ConfigSchema>>
type Key = keyof Static<typeof ConfigSchema>

const KEYS = Object.keys(ConfigSchema.properties) as Key[]

export class ConfigError extends Error {}

/** `--data-dir` → `DATA_DIR`. */
function flagToKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()
}

/** Splits argv into the sub-command, its positional arguments and `--flag value` pairs. */
export function parseArgs(argv: string[]): { command: string; args: string[]; flags: Record<string, string> } {
  const flags: Record<string, string> = {}
  const positional: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) {
      positional.push(a)
      continue
    }
    const eq = a.indexOf('=')
    if (eq > 0) flags[flagToKey(a.slice(0, eq))] = a.slice(eq + 1)
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags[flagToKey(a)] = argv[++i]!
    else flags[flagToKey(a)] = 'true'
  }
  return { command: positional[0] ?? 'serve', args: positional.slice(1), flags }
}

/** Turns a string from the environment or a flag into the type the schema wants. */
function coerce(key: Key, raw: string): unknown {
  const schema = ConfigSchema.properties[key] as { type?: string; anyOf?: unknown }
  const type = schema.type
  if (type === 'integer' || type === 'number') return raw.trim() === '' ? NaN : Number(raw)
  if (type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true
    if (/^(0|false|no|off)$/i.test(raw)) return false
    return raw
  }
  if (type === 'array') return raw.split(/[\s,]+/).filter(Boolean)
  return raw
}

/** Top-level Xray objects that mean nothing to xgate: accepted so an Xray file loads, and named once. */
const XRAY_IGNORED = ['routing', 'stats', 'policy']

/** Xray gives the control listener's address as the dokodemo-door inbound tagged with api.tag. */
function xrayApiListen(inbounds: unknown, tag: unknown): string | undefined {
  if (!Array.isArray(inbounds)) throw new ConfigError('inbounds: must be an array')
  const hit = inbounds.find(
    (i) => i && typeof i === 'object' && i.protocol === 'dokodemo-door' && (tag === undefined || i.tag === tag),
  ) as { listen?: unknown; port?: unknown } | undefined
  if (!hit) return undefined
  const host = typeof hit.listen === 'string' && hit.listen ? hit.listen : '127.0.0.1'
  if (!Number.isInteger(hit.port)) throw new ConfigError('inbounds: the api inbound needs an integer port')
  return `${host}:${hit.port}`
}

function readConfigFile(path: string, note: (line: string) => void): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new ConfigError(`config file ${path}: ${(e as Error).message}`)
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path}: must hold a JSON object`)
  }
  const out: Record<string, unknown> = {}
  const obj = parsed as Record<string, unknown>
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'api') {
      // Xray's shape: "api": {"tag": "api", "listen": "127.0.0.1:10085", "services": [...]}
      const api = v as { listen?: unknown; services?: unknown; token?: unknown; tag?: unknown }
      if (!api || typeof api !== 'object') throw new ConfigError('api: must be an object')
      const viaInbound = obj.inbounds === undefined ? undefined : xrayApiListen(obj.inbounds, api.tag)
      if (api.listen !== undefined) out.API_LISTEN = api.listen
      else if (viaInbound !== undefined) out.API_LISTEN = viaInbound
      if (api.services !== undefined) out.API_SERVICES = api.services
      if (api.token !== undefined) out.API_TOKEN = api.token
    } else if (k === 'inbounds' && obj.api !== undefined) continue
    else if (XRAY_IGNORED.includes(k)) note(`config file ${path}: ignoring Xray's "${k}" object (xgate has no use for it)`)
    else if ((KEYS as string[]).includes(k)) out[k] = v
    else throw new ConfigError(`config file ${path}: unknown setting ${k}`)
  }
  return out
}

/**
 * Builds the frozen Config. `env` is process.env in production and a plain object in tests.
 * Throws ConfigError with one line naming the setting and why.
 */
export function loadConfig(
  flags: Record<string, string>,
  env: Record<string, string | undefined>,
  note: (line: string) => void = (line) => process.stderr.write(`xgate: ${line}\n`),
): Config {
  const merged: Record<string, unknown> = {}
  // What the operator wrote, before coercion: an error echoes "abc", not the NaN it became.
  const given: Record<string, unknown> = {}
  const file = flags.CONFIG ?? env.CONFIG_FILE
  if (file) Object.assign(merged, readConfigFile(file, note))
  Object.assign(given, merged)
  for (const key of KEYS) {
    const v = env[key]
    if (v !== undefined && v !== '') {
      merged[key] = coerce(key, v)
      given[key] = v
    }
  }
  for (const [flag, v] of Object.entries(flags)) {
    if (flag === 'CONFIG') continue
    if (!(KEYS as string[]).includes(flag)) {
      throw new ConfigError(`unknown flag --${flag.toLowerCase().replace(/_/g, '-')}`)
    }
    merged[flag] = coerce(flag as Key, v)
    given[flag] = v
  }
  const withDefaults = Value.Default(ConfigSchema, merged) as Record<string, unknown>
  const first = Value.Errors(ConfigSchema, withDefaults).First()
  if (first) {
    const name = first.path.replace(/^\//, '').split('/')[0] || 'config'
    const shown = JSON.stringify(name in given ? given[name] : withDefaults[name])
    throw new ConfigError(`invalid setting ${name}=${shown ?? ''}: ${first.message}`)
  }
  checkCluster(withDefaults)
  if (withDefaults.TZ) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: withDefaults.TZ as string })
    } catch {
      throw new ConfigError(`invalid setting TZ=${JSON.stringify(withDefaults.TZ)}: not an IANA time zone`)
    }
  } else {
    withDefaults.TZ = Intl.DateTimeFormat().resolvedOptions().timeZone
  }
  return Object.freeze(withDefaults) as unknown as Config
}

/** Several nodes share state through Redis and their records through PostgreSQL, never SQLite. */
function checkCluster(c: Record<string, unknown>): void {
  const url = c.REDIS_URL as string | undefined
  if (url !== undefined && !/^rediss?:\/\/[^/]/.test(url)) {
    throw new ConfigError(`invalid setting REDIS_URL=${JSON.stringify(url)}: expected redis://[user:password@]host:port[/db] or rediss://…`)
  }
  if (url !== undefined && !c.DATABASE_URL) {
    throw new ConfigError('invalid setting REDIS_URL: several nodes need DATABASE_URL (PostgreSQL); SQLite in DATA_DIR serves one process')
  }
  const id = c.NODE_ID as string | undefined
  if (id !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) {
    throw new ConfigError(`invalid setting NODE_ID=${JSON.stringify(id)}: 1-64 letters, digits, '.', '_' or '-'`)
  }
}

/** What each setting means, for `xgate serve --help` (one short line each). */
const MEANING: Record<Key, string> = {
  HOST: 'address the HTTP listener binds', PORT: 'HTTP port (0: any free port)',
  DATA_DIR: 'folder for xgate.db, root.key, master.key',
  DATABASE_URL: 'postgres://user:password@host:port/database to keep the records in PostgreSQL (default: SQLite in DATA_DIR)',
  REDIS_URL: 'redis://host:port: share limits, balances and key state with the other nodes (needs DATABASE_URL)',
  NODES: 'nodes behind the load balancer: each enforces limit ÷ NODES while Redis is unreachable',
  NODE_ID: "this node's name in /metrics, /healthz and the control API (default: host name and port)",
  REDIS_COMMAND_TIMEOUT_MS: 'longest wait for one Redis command before a call is refused or falls back',
  SLOT_LEASE_MS: "several nodes: a call's Concurrency slot lease, renewed while it runs; a dead node's slots free after it",
  RECONCILE_MS: "several nodes: how often one node checks every shared balance against the database and corrects it",
  TZ: 'IANA time zone for days and logs',
  INIT_USERS: 'first start: root::email::key[,name::email::key::credit…]',
  INIT_KEYS: 'first start: secret::providerURL[::type],… upstream keys',
  MODEL_MAPPER: 'default for the MODEL_MAPPER config key',
  MODEL_PROVIDERS: 'model → provider format (openai|anthropic), wildcards: claude-*=anthropic', LEVEL_MAPPER: 'model → key level default',
  SWITCH_OVER: 'level failover (1=2,2=3)', RESOURCES: 'default allowed API paths',
  MODEL_LIMITS: 'default per-model limits',
  MODEL_PRICES: 'extra or overriding model prices', ALLOW_UNPRICED_MODELS: 'serve models without a price',
  USER_MIN_BALANCE: 'least CreditGranted of a new subaccount (USD)', CALL_MIN_BALANCE: 'USD needed to make a call',
  HOLD_DEFAULT_OUTPUT_TOKENS: 'output tokens a call is held for when neither it nor the catalogue says',
  USER_API_MIN_BALANCE: 'balance a non-root caller needs for the admin API', EMAIL_BALANCE: 'low-balance e-mail threshold (USD)',
  EMAIL_SMTP: 'SMTP host for alerts', EMAIL_PORT: 'SMTP port', EMAIL_AUTH: 'SMTP user',
  EMAIL_PASS: 'SMTP password', EMAIL_SENDER: 'From address', EMAIL_TLS: 'SMTP over TLS',
  XAI_MAIL: 'address copied on alerts', FLUSH_INTERVAL_MS: 'ms between write-behind flushes',
  FLUSH_MAX_ROWS: 'rows that force a flush',
  WRITE_BEHIND_MAX_ROWS: 'changes kept in memory while the database is unreachable; beyond them proxied calls get 503', LOG_FILE: 'log file (default: stderr)',
  LOG_LEVEL: 'debug, info, warn or error', TRUST_PROXY: 'proxies whose X-Forwarded-For is believed',
  UPSTREAM_TIMEOUT_MS: 'ms an upstream call may last', FIRST_BYTE_TIMEOUT_MS: 'ms to an upstream first byte',
  TRIES_PER_LEVEL: 'upstream keys tried per level', MAX_BODY_BYTES: 'largest proxied request body',
  ADMIN_MAX_BODY_BYTES: 'largest admin request body',
  BODY_TIMEOUT_MS: 'ms a request body may take to arrive (proxied: then at least 16 KiB/s)',
  USAGE_RETENTION_DAYS: 'days usage rows are kept',
  SHUTDOWN_GRACE_MS: 'ms calls in flight get on stop', API_LISTEN: 'control (gRPC) listener host:port or unix:path',
  API_SERVICES: 'control services to serve', API_TOKEN: 'token the control API requires',
}

/** The settings table printed by `xgate serve --help`: name, default, meaning. */
export function settingsHelp(): string {
  const rows = KEYS.map((k) => {
    const def = (ConfigSchema.properties[k] as { default?: unknown }).default
    const shown = def === undefined ? '-' : JSON.stringify(def)
    return `  ${k.padEnd(22)} ${shown.padEnd(12)} ${MEANING[k]}`
  })
  const head = 'settings (flag --name-of-setting, environment NAME, or the --config JSON file):'
  return [head, `  ${'NAME'.padEnd(22)} ${'DEFAULT'.padEnd(12)} MEANING`, ...rows].join('\n')
}

/** Reads the real process environment and argv; the one place that touches process.env. */
export function configFromProcess(flags: Record<string, string>): Config {
  return loadConfig(flags, process.env)
}

/**
 * Upstream calls a process may have in flight. Bun queues any fetch beyond
 * BUN_CONFIG_MAX_HTTP_REQUESTS (default 256), and reads that variable only when the process
 * starts; every proxied call is one upstream fetch, so a gateway left at 256 would hold stream
 * 257 back until a slot frees (or its first-byte limit fires). A value the operator set is kept.
 */
export const UPSTREAM_FETCH_LIMIT = 16_384

/**
 * The machine size JavaScriptCore sizes its heap for. JSC grows the heap in proportion to the RAM
 * it sees, and on a large host that let the gateway's garbage peak at ~180 MB RSS under load; as
 * if on a 2 GiB host it peaks at 124–127 MB for the same work and CPU (BENCHMARKS.md). A smaller
 * host is left to its own size; a value the operator set (BUN_JSC_forceRAMSize) is kept.
 */
export const HEAP_SIZED_FOR_BYTES = 2 * 1024 ** 3

/**
 * The environment `serve` must restart itself with (both variables are read only when a process
 * starts): Bun's fetch limit lifted and the heap sized as above. Null when nothing would change.
 */
export function serveEnv(
  totalMemBytes: number,
  env: Record<string, string | undefined> = process.env,
): Record<string, string | undefined> | null {
  const add: Record<string, string> = {}
  if (!env.BUN_CONFIG_MAX_HTTP_REQUESTS)
    add.BUN_CONFIG_MAX_HTTP_REQUESTS = String(UPSTREAM_FETCH_LIMIT)
  if (!env.BUN_JSC_forceRAMSize && totalMemBytes > HEAP_SIZED_FOR_BYTES)
    add.BUN_JSC_forceRAMSize = String(HEAP_SIZED_FOR_BYTES)
  return Object.keys(add).length ? { ...env, ...add } : null
}

/** Version information baked in at build time (scripts/build.ts defines these), else from package.json. */
export const VERSION = process.env.XGATE_VERSION ?? '0.1.0'
export const COMMIT = process.env.XGATE_COMMIT ?? 'dev'
