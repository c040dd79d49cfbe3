// Wires the proxy: global rules (reloadable), per-account policies, the limits gate, the upstream
// failover settings and the pipeline that routes.ts calls.
import type { Authenticator } from '../accounts/auth'
import type { Account } from '../accounts/repo'
import type { Metering } from '../billing/metering'
import type { Config } from '../config'
import type { GatewayStats } from '../control/record'
import type { RequestMeta } from '../shared/request-meta'
import type { Pool } from '../keys/pool'
import type { Clock } from '../shared/clock'
import { DeadlineQueue, deadlines } from '../shared/deadlines'
import type { Call } from './call'
import type { Events } from '../shared/events'
import type { InFlight } from '../shared/inflight'
import type { Logger } from '../shared/log'
import type { LimitsGate } from './gate'
import { lazyTokenizer } from './meter'
import { createPipeline } from './pipeline'
import { createPolicies, type AncestorsOf, type Policies } from './policy'
import { compileRules, type RuleSource, type Rules } from './rules'
import type { Holds } from '../wallet/holds'

/**
 * A call still running after this long starts listening for its client leaving (then aborting the
 * upstream call at once). Shorter calls skip building the request's abort signal.
 */
const CLIENT_WATCH_MS = 50

export type ProxyService = {
  handle: ReturnType<typeof createPipeline>
  rules(): Rules
  policies: Policies
  /** The account's ancestors and cards into memory before a call reads them (GET /v1/models). */
  warm(account: Account): Promise<void>
  /** Applies new MODEL_MAPPER / LEVEL_MAPPER / SWITCH_OVER / RESOURCES (from /x-config). */
  reload(src: RuleSource): void
}

export function createProxyService(opts: {
  config: Config
  clock: Clock
  fetch: typeof fetch
  log: Logger
  auth: Authenticator
  pool: Pool
  metering: Metering
  events: Events
  inFlight: InFlight
  requestMeta: WeakMap<Request, RequestMeta>
  holds: Holds
  /** The limits feature's gate (rate windows, Concurrency, HardLimit). */
  gate: LimitsGate
  /** An account's ancestors, for the lists narrowed down the tree (the accounts tree). */
  ancestorsOf: AncestorsOf
  /**
   * Brings what a call reads of an account into memory (its ancestors, its cards): undefined
   * when it is all there, so a warm call never waits.
   */
  warm: (account: Account) => Promise<void> | undefined
  /** True when the store is failing and the write-behind buffer is full (no call can be kept). */
  storeFull: () => boolean
  stats?: GatewayStats
  /** Several nodes: the gate's Redis round trip admits the money hold (see pipeline). */
  sharedMoney?: boolean
}): ProxyService {
  const { config } = opts
  let rules = compileRules(config)
  const policies = createPolicies({ rules: () => rules, ancestorsOf: opts.ancestorsOf })
  opts.events.onAccountChanged(() => policies.clear())
  opts.events.onAccountDeleted(() => policies.clear())
  const stats = opts.stats
  if (stats) {
    opts.metering.settler.onSettled(({ record: r, summary: s }) =>
      stats.recordCall({
        account: s.account.name,
        surface: s.surface,
        keyName: s.keyName ?? undefined,
        keyType: s.keyName ? (s.provider ?? s.surface) : undefined,
        model: r.mappedModel,
        uplinkBytes: s.uplinkBytes,
        downlinkBytes: s.downlinkBytes,
        outcome: r.status < 400 ? 'ok' : r.status === 429 ? 'ratelimited' : 'error',
        promptTokens: r.promptTokens,
        completionTokens: r.completionTokens,
        cachedTokens: r.cachedTokens,
        costNano: r.costNano,
        upstreamLatencyS: s.keyName ? r.latencyMs / 1000 : undefined,
      }),
    )
  }
  const handle = createPipeline({
    config,
    auth: opts.auth,
    policies,
    rules: () => rules,
    pricing: opts.metering.pricing,
    ledger: opts.metering.ledger,
    holds: opts.holds,
    gate: opts.gate,
    sharedMoney: opts.sharedMoney,
    warm: opts.warm,
    storeFull: opts.storeFull,
    requestMeta: opts.requestMeta,
    upstream: {
      pool: opts.pool,
      fetch: opts.fetch,
      clock: opts.clock,
      log: opts.log,
      triesPerLevel: config.TRIES_PER_LEVEL,
      firstByte: deadlines(config.FIRST_BYTE_TIMEOUT_MS),
    },
    call: {
      // Follows /x-config: `rules` is replaced on every reload.
      providerOf: (model) => rules.providerOf(model),
      clock: opts.clock,
      inFlight: opts.inFlight,
      settler: opts.metering.settler,
      holds: opts.holds,
      keys: opts.pool,
      tokenizer: lazyTokenizer(() => {
        // Loaded on the first call that needs an estimate: the ranks cost ~60 MB of memory.
        const t = require('../billing/tokens') as typeof import('../billing/tokens')
        return { count: t.countTokens, prompt: t.estimatePromptTokens }
      }),
      deadlines: deadlines(config.UPSTREAM_TIMEOUT_MS),
      watch: new DeadlineQueue<Call>(CLIENT_WATCH_MS, (call) => call.watchClient()),
      // Who is online is read only by StatsService: without it, calls skip the bookkeeping.
      online:
        stats && config.API_SERVICES.includes('StatsService')
          ? (name, ip) => stats.online.enter(name, ip)
          : undefined,
    },
  })
  return {
    handle,
    async warm(account) {
      const w = opts.warm(account)
      if (w) await w
    },
    rules: () => rules,
    policies,
    reload(src) {
      rules = compileRules({ ...config, ...src })
      policies.clear()
    },
  }
}
