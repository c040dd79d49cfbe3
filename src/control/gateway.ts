// Assembles the control API's backend and the /metrics snapshot from the running gateway's
// parts. The handler part (accounts and upstream keys) is passed in by the server.
import type { Deps } from '../deps'
import type { ControlBackend, HandlerBackend } from './backend'
import type { KeyState, MetricsSnapshot } from './metrics'

export type KeyStateView = { name: string; type: string; level: number; state: KeyState }

export function createControlBackend(deps: Deps, handler: HandlerBackend): ControlBackend {
  return {
    counters: deps.stats.counters,
    online: deps.stats.online,
    sysStats: () => {
      const mem = process.memoryUsage()
      return {
        uptimeS: Math.floor((deps.clock.now() - deps.startedAtMs) / 1000),
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        inFlight: deps.inFlight.count(),
      }
    },
    restartLogger: () => deps.log.reopen(),
    handler,
  }
}

export function metricsSnapshot(deps: Deps, keys: () => KeyStateView[]): MetricsSnapshot {
  const flush = deps.flusher.stats()
  const pending = deps.flusher.pending()
  return {
    uptimeS: Math.floor((deps.clock.now() - deps.startedAtMs) / 1000),
    inFlight: deps.inFlight.count(),
    // Lag is measured from the last successful flush while changes wait (0 when all is written).
    flushLagMs: pending > 0 ? Math.max(0, deps.clock.now() - (flush.lastFlushAtMs || deps.startedAtMs)) : 0,
    flushPending: pending,
    storeUp: flush.failingFor === 0,
    holds: deps.holds.totals(),
    ...deps.stats.snapshot(),
    keys: keys(),
    cluster: clusterOf(deps),
  }
}

function clusterOf(deps: Deps): MetricsSnapshot['cluster'] {
  const c = deps.cluster
  if (!c) return undefined
  const st = c.status()
  return {
    node: st.node,
    redisUp: st.redis,
    changesLive: st.bus,
    sharedLimits: st.mode === 'shared',
    fallbackCalls: st.fallbackCalls,
    moneyRefused: st.moneyRefused,
    settleFailures: st.settleFailures,
    resyncs: st.resyncs,
    reconciles: st.books.reconciles,
    corrections: st.books.corrections,
    reaped: st.books.reaped,
    retrying: st.books.retryingSettlements,
    unsent: c.announcer.unsent,
  }
}
