// GET /metrics: renders a plain snapshot of the gateway as Prometheus text exposition format
// (version 0.0.4). Pure: the gateway builds the snapshot, this only formats it.

import type { HistogramSnapshot } from './histogram'

export type RequestOutcome = 'ok' | 'error' | 'ratelimited' | 'denied'
export type KeyState = 'active' | 'sleeping' | 'disabled'
const KEY_STATES: KeyState[] = ['active', 'sleeping', 'disabled']

export type MetricsSnapshot = {
  uptimeS: number
  /** Proxied calls in flight. */
  inFlight: number
  /** Age of the oldest change not yet written by the flusher, ms (0 when all is written). */
  flushLagMs: number
  /** Changes waiting for the flusher. */
  flushPending: number
  /** False while the write-behind's flushes to the database fail. */
  storeUp?: boolean
  /** Admission holds open now: money (nano, book units summed over accounts) and calls. */
  holds?: { heldNano: number; calls: number }
  requests: { surface: string; model: string; outcome: RequestOutcome; count: number }[]
  tokens: {
    surface: string
    model: string
    kind: 'prompt' | 'completion' | 'cached'
    count: number
  }[]
  /** Charged cost per model, nano-USD (an integer, exact). */
  cost: { model: string; nano: number }[]
  /** Upstream latency (request sent to last byte) per provider type. */
  upstreamLatency: { type: string; hist: HistogramSnapshot }[]
  keys: { name: string; type: string; level: number; state: KeyState }[]
  /** Several nodes: this node's id (a `node` label on every sample) and the shared state. */
  cluster?: {
    node: string
    redisUp: boolean
    changesLive: boolean
    sharedLimits: boolean
    fallbackCalls: number
    moneyRefused: number
    settleFailures: number
    resyncs: number
    reconciles: number
    corrections: number
    reaped: number
    retrying: number
    unsent: number
  }
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

type Labels = Record<string, string | number>

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  return String(n)
}

function sample(name: string, labels: Labels, value: number): string {
  const entries = Object.entries(labels)
  const ls = entries.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',')
  return `${name}${entries.length ? `{${ls}}` : ''} ${formatValue(value)}`
}

function family(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`)
  out.push(`# TYPE ${name} ${type}`)
}

function histogram(out: string[], name: string, labels: Labels, h: HistogramSnapshot): void {
  let cumulative = 0
  h.boundsS.forEach((le, i) => {
    cumulative += h.counts[i] ?? 0
    out.push(sample(`${name}_bucket`, { ...labels, le: formatValue(le) }, cumulative))
  })
  cumulative += h.counts[h.boundsS.length] ?? 0
  out.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, cumulative))
  out.push(sample(`${name}_sum`, labels, h.sumS))
  out.push(sample(`${name}_count`, labels, cumulative))
}

export function renderMetrics(s: MetricsSnapshot): string {
  const out: string[] = []
  family(out, 'xgate_uptime_seconds', 'gauge', 'Seconds since the gateway started.')
  out.push(sample('xgate_uptime_seconds', {}, s.uptimeS))
  family(out, 'xgate_requests_in_flight', 'gauge', 'Proxied calls in flight.')
  out.push(sample('xgate_requests_in_flight', {}, s.inFlight))
  family(out, 'xgate_flush_lag_seconds', 'gauge', 'Age of the oldest change not yet flushed.')
  out.push(sample('xgate_flush_lag_seconds', {}, s.flushLagMs / 1000))
  family(out, 'xgate_flush_pending', 'gauge', 'Changes waiting for the write-behind flusher.')
  out.push(sample('xgate_flush_pending', {}, s.flushPending))
  if (s.storeUp !== undefined) {
    family(out, 'xgate_store_up', 'gauge', '1 while the write-behind reaches the database, 0 while its flushes fail.')
    out.push(sample('xgate_store_up', {}, s.storeUp ? 1 : 0))
  }
  if (s.holds) {
    family(out, 'xgate_holds_usd', 'gauge', 'Money held by calls in flight (accounts\' book units).')
    out.push(sample('xgate_holds_usd', {}, s.holds.heldNano / 1e9))
    family(out, 'xgate_holds_calls', 'gauge', 'Calls in flight holding money or counted for it.')
    out.push(sample('xgate_holds_calls', {}, s.holds.calls))
  }

  family(out, 'xgate_requests_total', 'counter', 'Proxied calls by surface, model and outcome.')
  for (const r of s.requests) {
    out.push(
      sample(
        'xgate_requests_total',
        { surface: r.surface, model: r.model, outcome: r.outcome },
        r.count,
      ),
    )
  }
  family(out, 'xgate_tokens_total', 'counter', 'Tokens by surface, model and kind.')
  for (const t of s.tokens) {
    out.push(
      sample('xgate_tokens_total', { surface: t.surface, model: t.model, kind: t.kind }, t.count),
    )
  }
  family(out, 'xgate_cost_nanousd_total', 'counter', 'Charged cost in nano-USD (1e-9 USD).')
  for (const c of s.cost) out.push(sample('xgate_cost_nanousd_total', { model: c.model }, c.nano))

  const lat = 'xgate_upstream_latency_seconds'
  family(out, lat, 'histogram', 'Upstream call latency, request sent to last byte.')
  for (const l of s.upstreamLatency) histogram(out, lat, { type: l.type }, l.hist)

  family(out, 'xgate_upstream_key_state', 'gauge', 'Upstream key state: 1 for the current one.')
  for (const k of s.keys) {
    for (const st of KEY_STATES) {
      const labels = { key: k.name, type: k.type, level: k.level, state: st }
      out.push(sample('xgate_upstream_key_state', labels, k.state === st ? 1 : 0))
    }
  }
  if (s.cluster) {
    clusterFamilies(out, s.cluster)
    return withNode(out, s.cluster.node).join('\n') + '\n'
  }
  return out.join('\n') + '\n'
}

function clusterFamilies(out: string[], c: NonNullable<MetricsSnapshot['cluster']>): void {
  const gauge = (name: string, help: string, v: number) => {
    family(out, name, 'gauge', help)
    out.push(sample(name, {}, v))
  }
  const counter = (name: string, help: string, v: number) => {
    family(out, name, 'counter', help)
    out.push(sample(name, {}, v))
  }
  gauge('xgate_redis_up', '1 while this node reaches Redis.', c.redisUp ? 1 : 0)
  gauge('xgate_changes_live', "1 while other nodes' changes reach this node as they are made.", c.changesLive ? 1 : 0)
  gauge('xgate_limits_shared', '1: limits and balances are shared through Redis; 0: limit ÷ NODES on this node, money refused.', c.sharedLimits ? 1 : 0)
  gauge('xgate_changes_unsent', 'Changes made here not yet published to the other nodes.', c.unsent)
  counter('xgate_fallback_calls_total', 'Calls admitted by the per-node fallback limits while Redis was unreachable.', c.fallbackCalls)
  counter('xgate_money_refused_total', 'Calls refused (503) because the shared balances were unreachable.', c.moneyRefused)
  counter('xgate_shared_settle_failures_total', 'Settlements Redis did not take at first (those with money are sent again until taken; the others\' slots and buckets expire).', c.settleFailures)
  counter('xgate_change_resyncs_total', 'Times this node subscribed again and dropped what it cached.', c.resyncs)
  counter('xgate_books_reconciles_total', 'Passes this node ran checking every shared balance against the database.', c.reconciles)
  counter('xgate_books_corrections_total', 'Shared balances those passes set right.', c.corrections)
  counter('xgate_books_reaped_total', 'Nodes found dead by this one (heartbeat stopped), their open holds given back.', c.reaped)
  gauge('xgate_books_retrying_settlements', 'Settlements with money Redis has not taken yet.', c.retrying)
}

/** Every sample carries the node's id, so several nodes' series stay apart wherever they meet. */
function withNode(lines: string[], node: string): string[] {
  const label = `node="${escapeLabel(node)}"`
  return lines.map((l) => {
    if (l.startsWith('#')) return l
    const brace = l.indexOf('{')
    const space = l.indexOf(' ')
    if (brace !== -1 && brace < space) return `${l.slice(0, brace + 1)}${label},${l.slice(brace + 1)}`
    return `${l.slice(0, space)}{${label}}${l.slice(space)}`
  })
}
