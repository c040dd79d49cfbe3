// Feeds the control API's views from proxied calls: one recordCall() per settled call updates the
// Xray-style counters (user/inbound/outbound/model) and the aggregates behind GET /metrics.
// Views only: billing reads usage records, never these.
import { createCounters, statName, type Cell, type Counters } from './stats'
import { createOnlineTracker, type OnlineTracker } from './online'
import { createHistogram, type Histogram } from './histogram'
import type { RequestOutcome } from './metrics'
import type { Clock } from '../shared/clock'

export type CallFacts = {
  account: string
  /** 'openai' | 'anthropic': the API surface (Xray's inbound). */
  surface: string
  /** Upstream key name (Xray's outbound); absent when no key was reached. */
  keyName?: string
  keyType?: string
  model?: string
  uplinkBytes: number
  downlinkBytes: number
  outcome: RequestOutcome
  promptTokens: number
  completionTokens: number
  cachedTokens: number
  costNano: number
  /** Request sent upstream to last byte, seconds; absent when no upstream call was made. */
  upstreamLatencyS?: number
}

type Agg = Map<string, number>
type Scope = 'user' | 'inbound' | 'outbound' | 'model'

/** The cells of one scope and ID, fetched once; a call then adds to them directly. */
type Bundle = {
  up: Cell | null
  down: Cell | null
  total: Cell
  errors: Cell
  ratelimited: Cell
  prompt: Cell
  completion: Cell
  cached: Cell
  cost: Cell
}

/** Bundles cached at most; past it the cache starts afresh (cells live on in the registry). */
const MAX_BUNDLES = 20_000

export type GatewayStats = ReturnType<typeof createGatewayStats>

/** The /metrics series keys of one surface and model, built once. */
type SeriesKeys = Record<RequestOutcome | 'prompt' | 'completion' | 'cached', string>

const newBundleMaps = (): Record<Scope, Map<string, Bundle>> => ({
  user: new Map(),
  inbound: new Map(),
  outbound: new Map(),
  model: new Map(),
})

/** One call's figures added to the cells of one scope and ID. */
function add(b: Bundle, f: CallFacts): void {
  if (b.up) b.up.v += f.uplinkBytes
  if (b.down) b.down.v += f.downlinkBytes
  b.total.v++
  if (f.outcome === 'error') b.errors.v++
  else if (f.outcome === 'ratelimited') b.ratelimited.v++
  b.prompt.v += f.promptTokens
  b.completion.v += f.completionTokens
  b.cached.v += f.cachedTokens
  b.cost.v += f.costNano
}

const bump = (m: Agg, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n)
/** Bounds the label sets of /metrics: model names come from clients. */
const MAX_SERIES = 5_000

export function createGatewayStats(clock: Clock, counters: Counters = createCounters()) {
  const online: OnlineTracker = createOnlineTracker(clock)
  const requests: Agg = new Map()
  const tokens: Agg = new Map()
  const cost: Agg = new Map()
  const latency = new Map<string, Histogram>()

  const series = (m: Agg, k: string, n: number) => {
    if (m.has(k) || m.size < MAX_SERIES) bump(m, k, n)
  }

  // One map per scope, by ID, and series keys per surface and model: a call builds no strings.
  let bundles = newBundleMaps()
  let seriesKeys = new Map<string, Map<string, SeriesKeys>>()
  let cached = 0
  let epoch = counters.epoch()
  /** Drops cached cells when counters were removed (or the caches are full). */
  const refresh = () => {
    if (epoch === counters.epoch() && cached < MAX_BUNDLES) return
    bundles = newBundleMaps()
    seriesKeys = new Map()
    cached = 0
    epoch = counters.epoch()
  }
  const keysOf = (surface: string, model: string): SeriesKeys => {
    let bySurface = seriesKeys.get(surface)
    if (!bySurface) seriesKeys.set(surface, (bySurface = new Map()))
    let k = bySurface.get(model)
    if (k) return k
    const p = `${surface}\u0000${model}\u0000`
    k = {
      ok: p + 'ok',
      error: p + 'error',
      ratelimited: p + 'ratelimited',
      denied: p + 'denied',
      prompt: p + 'prompt',
      completion: p + 'completion',
      cached: p + 'cached',
    }
    bySurface.set(model, k)
    cached++
    return k
  }
  const bundleOf = (scope: Scope, id: string): Bundle => {
    const m = bundles[scope]
    let b = m.get(id)
    if (b) return b
    const c = counters.cell
    b = {
      up: scope === 'model' ? null : c(statName.traffic(scope, id, 'uplink')),
      down: scope === 'model' ? null : c(statName.traffic(scope, id, 'downlink')),
      total: c(statName.requests(scope, id, 'total')),
      errors: c(statName.requests(scope, id, 'errors')),
      ratelimited: c(statName.requests(scope, id, 'ratelimited')),
      prompt: c(statName.tokens(scope, id, 'prompt')),
      completion: c(statName.tokens(scope, id, 'completion')),
      cached: c(statName.tokens(scope, id, 'cached')),
      cost: c(statName.cost(scope, id)),
    }
    m.set(id, b)
    cached++
    return b
  }

  return {
    counters,
    online,
    recordCall(f: CallFacts): void {
      refresh()
      if (f.account) add(bundleOf('user', f.account), f)
      if (f.surface) add(bundleOf('inbound', f.surface), f)
      if (f.keyName) add(bundleOf('outbound', f.keyName), f)
      if (f.model) add(bundleOf('model', f.model), f)
      const model = f.model ?? ''
      const k = keysOf(f.surface, model)
      series(requests, k[f.outcome], 1)
      if (f.promptTokens) series(tokens, k.prompt, f.promptTokens)
      if (f.completionTokens) series(tokens, k.completion, f.completionTokens)
      if (f.cachedTokens) series(tokens, k.cached, f.cachedTokens)
      if (f.costNano) series(cost, model, f.costNano)
      if (f.upstreamLatencyS !== undefined && f.keyType) {
        let h = latency.get(f.keyType)
        if (!h) latency.set(f.keyType, (h = createHistogram()))
        h.observe(f.upstreamLatencyS)
      }
    },
    /** Forget a deleted account's counters and online map. */
    dropAccount(name: string): void {
      counters.dropPrefix(statName.prefix('user', name))
      online.dropUser(name)
    },
    /** The /metrics aggregates (copies). */
    snapshot() {
      const split = (k: string) => k.split('\u0000')
      return {
        requests: [...requests].map(([k, count]) => {
          const [surface, model, outcome] = split(k)
          return { surface: surface!, model: model!, outcome: outcome as RequestOutcome, count }
        }),
        tokens: [...tokens].map(([k, count]) => {
          const [surface, model, kind] = split(k)
          return { surface: surface!, model: model!, kind: kind as 'prompt' | 'completion' | 'cached', count }
        }),
        cost: [...cost].map(([model, nano]) => ({ model, nano })),
        upstreamLatency: [...latency].map(([type, h]) => ({ type, hist: h.snapshot() })),
      }
    },
  }
}
