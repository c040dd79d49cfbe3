// The single wiring point: everything a feature needs (config, clock, fetch, log, store, stores)
// is built here once and handed down as plain objects.
import type { SqliteHandle } from './db/open'
import type { SqlDb } from './db/sql'
import type { Config } from './config'
import { createAuthenticator, type Authenticator } from './accounts/auth'
import { createAccountsRepo, type AccountsRepo } from './accounts/repo'
import { createAccountService, type AccountService } from './accounts/service'
import { createTree, type Tree } from './accounts/tree'
import { createGatewayStats, type GatewayStats } from './control/record'
import { createOpLogRepo, type OpLogRepo } from './logs/repo'
import { createFlusher, type Flusher } from './db/flusher'
import { createKeys, type Keys } from './keys/service'
import { createLimits, type Limits } from './limits/service'
import { createMetering, type Metering } from './billing/metering'
import { createProxyService, type ProxyService } from './proxy/service'
import { systemClock, type Clock } from './shared/clock'
import { createEvents, type Events } from './shared/events'
import { createInFlight, type InFlight } from './shared/inflight'
import { createLogger, type Logger } from './shared/log'
import { loadStoredSettings } from './settings/repo'
import { createSettings, type Settings } from './settings/service'
import type { RequestMeta } from './shared/request-meta'
import { createHolds, type Holds } from './wallet/holds'
import type { Charge } from './wallet/ledger'
import { balanceOf as cardsBalance } from './wallet/cards'
import { createCardsRepo } from './wallet/repo'
import { openCluster, type Cluster } from './cluster/node'
import {
  alertClaims,
  announceBalances,
  cardExpiry,
  connectNode,
  keyAnnouncements,
} from './cluster/sync'

export type { RequestMeta } from './shared/request-meta'

export type Deps = {
  config: Config
  clock: Clock
  fetch: typeof fetch
  log: Logger
  /** SQLite's own handle (checkpoints, backups), absent on PostgreSQL; everything else uses `sql`. */
  db?: SqliteHandle
  /** The SQL seam over the store (SQLite or PostgreSQL). */
  sql: SqlDb
  flusher: Flusher
  accounts: { repo: AccountsRepo; auth: Authenticator; tree: Tree; service: AccountService }
  oplog: OpLogRepo
  requestMeta: WeakMap<Request, RequestMeta>
  /** Calls in flight, streams included until their last byte. */
  inFlight: InFlight
  events: Events
  /** Global settings (/x-config) over their environment defaults, parsed once. */
  settings: Settings
  /** Control API views (Xray-style counters, online IPs, /metrics aggregates). */
  stats: GatewayStats
  startedAtMs: number
  /** Upstream keys: repo, in-memory pool, admin service. */
  keys: Keys
  /** Prices, hot-path balances, usage records, settlement. */
  billing: Metering
  /** The proxied surfaces: rules, policies, limits gate, pipeline. */
  proxy: ProxyService
  /** Rate-limit windows, monthly spend, the gate, alert mails (§5, §6). */
  limits: Limits
  /** Money held by calls in flight, per account (the wallet). */
  holds: Holds
  /** Several nodes (REDIS_URL): this node's share of the state they keep in Redis. */
  cluster?: Cluster
}

export type DepsOverrides = Partial<Pick<Deps, 'clock' | 'fetch' | 'log'>>

export async function buildDeps(
  config: Config,
  store: { db?: SqliteHandle; sql: SqlDb },
  overrides: DepsOverrides = {},
): Promise<Deps> {
  const { db, sql } = store
  const clock = overrides.clock ?? systemClock
  const log = overrides.log ?? createLogger({ file: config.LOG_FILE, level: config.LOG_LEVEL, now: clock.now })
  const flusher = createFlusher({
    db: sql,
    intervalMs: config.FLUSH_INTERVAL_MS,
    maxRows: config.FLUSH_MAX_ROWS,
    maxBacklog: config.WRITE_BEHIND_MAX_ROWS,
    log,
    now: clock.now,
  })
  const repo = createAccountsRepo(sql)
  const events = createEvents()
  const redisUrl = config.REDIS_URL
  const cluster = redisUrl ? await openCluster({ ...config, REDIS_URL: redisUrl }, { clock, log }) : undefined
  const announcer = cluster?.announcer
  const auth = createAuthenticator(repo)
  const oplog = createOpLogRepo(sql)
  // INIT_KEYS applies to an empty database only: buildDeps runs before the accounts bootstrap.
  const keys = await createKeys({ db: sql, dataDir: config.DATA_DIR, clock, oplog, initKeys: config.INIT_KEYS, emptyDatabase: (await repo.count()) === 0, announce: announcer && keyAnnouncements(announcer), nodes: cluster?.nodes })
  flusher.register(keys.pool)
  const billing = createMetering({ config, db: sql, clock, log, flusher, events, onCardExpired: cluster && cardExpiry(cluster.redis, cluster.holds, log) })
  const stats = createGatewayStats(clock)
  events.onAccountDeleted((e) => stats.dropAccount(e.name))
  events.onAccountChanged((e) => auth.invalidate(e.id))
  events.onAccountDeleted((e) => auth.invalidate(e.id))
  // Sized like the auth cache: every proxied call reads its account's view (lists, limit chain).
  const tree = createTree(repo, events, { max: 100_000 })
  const holds = createHolds()
  const service = createAccountService({ db: sql, repo, oplog, tree, events, flusher, clock, config, log, holds, moneyMoves: cluster?.moneyMoves })
  const inFlight = createInFlight()
  const requestMeta = new WeakMap<Request, RequestMeta>()
  const fetchFn = overrides.fetch ?? fetch
  // /x-config values (stored ones at start, then every change) reach the proxy and the prices.
  const settings = createSettings(config, await loadStoredSettings(sql), events, log, keys.vault)
  const limits = await createLimits({ config, db: sql, clock, log, flusher, tree, events, billing, settings, holds, alertClaims: cluster && alertClaims(cluster.redis) })
  // A missing shared money counter is made from the database less what every node lists.
  const shared = cluster?.attach({
    cachedBalanceOf: (id) => billing.ledger.balanceOf(id),
    balancesOf: async (ids) => {
      const cards = await createCardsRepo(sql).cardsOfMany(ids)
      const nowMs = clock.now()
      return new Map([...cards].map(([id, c]) => [id, cardsBalance(c, nowMs)]))
    },
  })
  // Built last, from the parts it calls: no setter after construction.
  const proxy = createProxyService({
    config, clock, fetch: fetchFn, log, auth, pool: keys.pool, metering: billing, events, inFlight, requestMeta, stats, holds,
    gate: shared ? limits.sharedGate(shared) : limits.gate,
    sharedMoney: !!shared,
    ancestorsOf: (a) => tree.ancestorsOf(a.id),
    storeFull: () => flusher.full(),
    warm: (a) => {
      const chain = tree.warm(a.id)
      const cards = billing.ledger.warm(a.id)
      return chain && cards ? Promise.all([chain, cards]).then(() => undefined) : (chain ?? cards)
    },
  })
  const applySettings = () => {
    proxy.reload(settings.ruleSource())
    billing.setPrices(settings.modelPrices())
  }
  applySettings()
  events.onSettingsChanged(applySettings)
  if (cluster && announcer) {
    connectNode({
      nodeId: cluster.instance, bus: cluster.bus, announcer, events, holds: cluster.holds, log,
      balancesChanged(ids) {
        void billing.ledger.reload(ids)
        limits.refreshSpend(ids).catch((e) => log.warn('month spend not refreshed', { error: (e as Error).message }))
      },
      reloadSettings: () => settings.reload({ remote: true }),
      refreshKey: (id) => keys.service.refresh(id),
      applyKeyState: (id, state) => keys.pool.applyState(id, state),
      async resync() {
        auth.clear()
        tree.clear()
        billing.ledger.forgetAll()
        proxy.policies.clear()
        await settings.reload({ remote: true })
        await keys.service.restore()
      },
    })
    flusher.afterCommit((source, rows) => {
      if (source !== 'ledger') return
      announceBalances(announcer, (rows as Charge[]).map((c) => c.accountId))
      cluster.flushed((rows as Charge[]).map((c) => c.requestId))
    })
  }
  return {
    config,
    clock,
    fetch: fetchFn,
    log,
    db,
    sql,
    flusher,
    accounts: { repo, auth, tree, service },
    oplog,
    requestMeta,
    inFlight,
    events,
    settings,
    stats,
    startedAtMs: clock.now(),
    keys,
    billing,
    proxy,
    limits,
    holds,
    cluster,
  }
}
