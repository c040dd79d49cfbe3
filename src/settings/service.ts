// The live global settings (§7.5): each key's value parsed once, from the environment default or
// a value stored through /x-config (stored wins), read by the proxy through typed getters on
// every call. Writes are validated key by key, stored with their op log row in one transaction,
// then applied at once and announced with settingsChanged.
import type { Account } from '../accounts/repo'
import { ConfigError, type Config } from '../config'
import { createOpLogRepo } from '../logs/repo'
import { AppError } from '../shared/errors'
import type { Events } from '../shared/events'
import type { Logger } from '../shared/log'
import { createVault, loadMasterKey, type Vault } from '../keys/vault'
import * as p from './parse'
import { createSettingsRepo, type SettingRow, type StoredSettings } from './repo'

type Spec = {
  parse: (v: unknown) => p.Parsed<unknown>
  unset: unknown
  secret?: boolean
  /** The value xgate's own configuration supplies when nobody set one (shown as `default`). */
  builtin?: unknown
}

const SPECS = {
  MODEL_MAPPER: { parse: p.parseModelMapper, unset: [] },
  MODEL_PROVIDERS: { parse: p.parseModelProviders, unset: [] },
  LEVEL_MAPPER: { parse: p.parseLevelMapper, unset: [] },
  SWITCH_OVER: { parse: p.parseSwitchOver, unset: new Map() },
  RESOURCES: { parse: p.parseResources, unset: null },
  MODEL_LIMITS: { parse: p.parseModelLimits, unset: {} },
  MODEL_PRICES: { parse: p.parseModelPrices, unset: {} },
  ALLOW_UNPRICED_MODELS: { parse: p.parseBool, unset: false, builtin: false },
  XAI_MAIL: { parse: p.parseAddresses, unset: [] },
  EMAIL_SMTP: { parse: p.parseHost, unset: undefined },
  EMAIL_PORT: { parse: p.parsePort, unset: undefined },
  EMAIL_AUTH: { parse: p.parseText(256), unset: undefined },
  EMAIL_PASS: { parse: p.parseText(256), unset: undefined, secret: true },
  EMAIL_SENDER: { parse: p.parseSender, unset: undefined },
  EMAIL_TLS: { parse: p.parseBool, unset: undefined },
  EMAIL_BALANCE: { parse: p.parseUsd, unset: 3, builtin: 3 },
} satisfies Record<string, Spec>

export type SettingKey = keyof typeof SPECS
export const SETTING_KEYS = Object.keys(SPECS) as SettingKey[]
export const MASK = '***'

export type Source = 'stored' | 'env' | 'default' | 'unset'
type Entry = { raw: unknown; value: unknown; source: Source }

export type MailSettings = {
  smtp?: string
  port?: number
  auth?: string
  pass?: string
  sender?: string
  tls?: boolean
  /** Addresses that get a copy of every alert. */
  xaiMail?: string[]
  /** Low-balance alert threshold (EMAIL_BALANCE). */
  balanceUsd: number
}

export type WriteContext = { actor: Account; nowMs: number }
export type Settings = ReturnType<typeof createSettings>

const isKey = (k: string): k is SettingKey => k in SPECS
const spec = (k: SettingKey): Spec => SPECS[k]

/**
 * Secret settings (EMAIL_PASS) are stored sealed by the upstream keys' vault, so the database
 * file and its backups never hold them in the clear. Rows written before read as they are.
 */
function sealing(vault: Vault) {
  return {
    seal: (raw: unknown) => vault.encrypt(JSON.stringify(raw)),
    open(stored: unknown): unknown {
      if (typeof stored !== 'string' || !stored.startsWith('v1:')) return stored
      try {
        return JSON.parse(vault.decrypt(stored))
      } catch {
        return stored
      }
    },
  }
}

export function createSettings(
  config: Config,
  stored: StoredSettings,
  events: Events,
  log?: Logger,
  vault: Vault = createVault(() => loadMasterKey(config.DATA_DIR)),
) {
  const sealed = sealing(vault)
  const env = new Map<SettingKey, Entry>()
  const live = new Map<SettingKey, Entry>()
  for (const key of SETTING_KEYS) {
    const raw = (config as Record<string, unknown>)[key]
    if (raw === undefined) {
      env.set(key, { raw: null, value: spec(key).unset, source: 'unset' })
      continue
    }
    const r = spec(key).parse(raw)
    if (!r.ok) throw new ConfigError(`invalid setting ${key}=${JSON.stringify(raw)}: ${r.why}`)
    // The config schema fills some keys in; a value equal to that built-in one reads as `default`.
    const source: Source = raw === spec(key).builtin ? 'default' : 'env'
    env.set(key, { raw, value: r.value, source })
  }
  /** The environment's values overlaid with the stored rows. */
  const fromRows = (rows: readonly SettingRow[]): Map<SettingKey, Entry> => {
    const out = new Map<SettingKey, Entry>()
    for (const key of SETTING_KEYS) out.set(key, env.get(key)!)
    for (const row of rows) {
      if (!isKey(row.key)) continue
      const raw = spec(row.key).secret ? sealed.open(row.value) : row.value
      const r = spec(row.key).parse(raw)
      if (r.ok) out.set(row.key, { raw, value: r.value, source: 'stored' })
      else log?.warn('stored setting ignored', { key: row.key, reason: r.why })
    }
    return out
  }
  for (const [key, e] of fromRows(stored.rows)) live.set(key, e)

  const get = <T>(key: SettingKey) => live.get(key)!.value as T
  /** A value as the string a client would POST to get it (secrets masked). */
  const shown = (key: SettingKey, raw: unknown): string => {
    if (spec(key).secret && raw !== '') return MASK
    return typeof raw === 'string' ? raw : typeof raw === 'object' ? JSON.stringify(raw) : String(raw)
  }

  /** The checked keys of a request body, or a 400 naming every bad key and why. */
  const validate = (values: Record<string, unknown>): Map<SettingKey, Entry> => {
    const out = new Map<SettingKey, Entry>()
    const errors: string[] = []
    for (const [key, raw] of Object.entries(values)) {
      if (!isKey(key)) errors.push(`${key}: not a setting (${SETTING_KEYS.join(', ')})`)
      else if (raw === null || raw === undefined) errors.push(`${key}: null; use DELETE /x-config`)
      else {
        const r = spec(key).parse(raw)
        if (r.ok) out.set(key, { raw, value: r.value, source: 'stored' })
        else errors.push(`${key}: ${r.why}`)
      }
    }
    if (errors.length > 0) {
      throw new AppError('bad_request', errors.join('; '), { param: errors[0]!.split(':')[0] })
    }
    if (out.size === 0) throw new AppError('bad_request', 'no settings given', { param: 'body' })
    return out
  }

  return {
    modelMapper: () => get<p.MapperEntry[]>('MODEL_MAPPER'),
    levelMapper: () => get<p.LevelEntry[]>('LEVEL_MAPPER'),
    switchOver: () => get<Map<number, number>>('SWITCH_OVER'),
    resources: () => get<string[] | null>('RESOURCES'),
    modelLimits: () => get<Record<string, p.ModelLimit>>('MODEL_LIMITS'),
    modelPrices: () => get<Record<string, p.PriceEntry>>('MODEL_PRICES'),
    allowUnpricedModels: () => get<boolean>('ALLOW_UNPRICED_MODELS'),
    /** EMAIL_BALANCE alone: read on every settled call, so without building mail(). */
    emailBalanceUsd: () => get<number>('EMAIL_BALANCE'),
    mail(): MailSettings {
      const xai = get<string[]>('XAI_MAIL')
      return {
        smtp: get<string | undefined>('EMAIL_SMTP'),
        port: get<number | undefined>('EMAIL_PORT'),
        auth: get<string | undefined>('EMAIL_AUTH'),
        pass: get<string | undefined>('EMAIL_PASS'),
        sender: get<string | undefined>('EMAIL_SENDER'),
        tls: get<boolean | undefined>('EMAIL_TLS'),
        xaiMail: xai.length > 0 ? xai : undefined,
        balanceUsd: get<number>('EMAIL_BALANCE'),
      }
    },

    /** The proxy's rule keys as text (`from=to` pairs or JSON), for its rule compiler. */
    ruleSource(): Partial<
      Record<'MODEL_MAPPER' | 'MODEL_PROVIDERS' | 'LEVEL_MAPPER' | 'SWITCH_OVER' | 'RESOURCES', string>
    > & { ALLOW_UNPRICED_MODELS?: boolean } {
      const text = (key: SettingKey): string | undefined => {
        const raw = live.get(key)!.raw
        if (raw === null || raw === undefined) return undefined
        if (typeof raw === 'string') return raw
        return Array.isArray(raw) ? raw.join(' ') : JSON.stringify(raw)
      }
      return {
        MODEL_MAPPER: text('MODEL_MAPPER'),
        MODEL_PROVIDERS: text('MODEL_PROVIDERS'),
        LEVEL_MAPPER: text('LEVEL_MAPPER'),
        SWITCH_OVER: text('SWITCH_OVER'),
        ALLOW_UNPRICED_MODELS: get<boolean>('ALLOW_UNPRICED_MODELS'),
        RESOURCES: text('RESOURCES'),
      }
    },

    /** The keys that have a value, as POSTable strings, and every key's source. */
    view(): { configs: Record<string, string>; sources: Record<string, Source> } {
      const configs: Record<string, string> = {}
      const sources: Record<string, Source> = {}
      for (const key of SETTING_KEYS) {
        const e = live.get(key)!
        if (e.source !== 'unset') configs[key] = shown(key, e.raw)
        sources[key] = e.source
      }
      return { configs, sources }
    },

    /**
     * Reads the stored values again (another node changed them) and applies those that differ,
     * as a change made here would be; the keys that changed.
     */
    async reload(opts: { remote?: boolean } = {}): Promise<SettingKey[]> {
      const next = fromRows(await createSettingsRepo(stored.db).all())
      const keys = SETTING_KEYS.filter(
        (k) => JSON.stringify(next.get(k)!.raw) !== JSON.stringify(live.get(k)!.raw),
      )
      for (const k of keys) live.set(k, next.get(k)!)
      if (keys.length) events.settingsChanged({ keys, remote: opts.remote })
      return keys
    },

    /** Validates every key, stores them with one `set_config` op log row, applies them. */
    async set(values: Record<string, unknown>, ctx: WriteContext): Promise<SettingKey[]> {
      const checked = validate(values)
      const keys = [...checked.keys()]
      const details = Object.fromEntries(keys.map((k) => [k, shown(k, checked.get(k)!.raw)]))
      await stored.db.tx(async (tx) => {
        const repo = createSettingsRepo(tx)
        for (const [key, e] of checked)
          await repo.put(key, spec(key).secret ? sealed.seal(e.raw) : e.raw, ctx.nowMs)
        await createOpLogRepo(tx).record(
          {
            action: 'set_config',
            operatorId: ctx.actor.id,
            operatorDna: ctx.actor.dna,
            details: { keys, values: details },
          },
          ctx.nowMs,
        )
      })
      for (const [key, e] of checked) live.set(key, e)
      events.settingsChanged({ keys })
      return keys
    },

    /** Drops the stored values of `keys` (back to the environment default); one op log row. */
    async reset(keys: unknown, ctx: WriteContext): Promise<{ keys: SettingKey[]; removed: SettingKey[] }> {
      if (!Array.isArray(keys) || keys.length === 0) {
        throw new AppError('bad_request', 'keys: must be a non-empty array of setting names', {
          param: 'keys',
        })
      }
      const bad = keys.filter((k) => typeof k !== 'string' || !isKey(k))
      if (bad.length > 0) {
        throw new AppError(
          'bad_request',
          `keys: ${bad.map(String).join(', ')} not a setting (${SETTING_KEYS.join(', ')})`,
          {
            param: 'keys',
          },
        )
      }
      const list = [...new Set(keys as SettingKey[])]
      const removed = await stored.db.tx(async (tx) => {
        const repo = createSettingsRepo(tx)
        const gone: SettingKey[] = []
        for (const k of list) if (await repo.remove(k)) gone.push(k)
        await createOpLogRepo(tx).record(
          {
            action: 'delete_config',
            operatorId: ctx.actor.id,
            operatorDna: ctx.actor.dna,
            details: { keys: list, removed: gone },
          },
          ctx.nowMs,
        )
        return gone
      })
      for (const key of list) live.set(key, env.get(key)!)
      events.settingsChanged({ keys: list })
      return { keys: list, removed }
    },
  }
}
