// GET /metrics text: every line parsed back by a small exposition-format parser; values,
// label escaping, histogram buckets cumulative and ending in +Inf == _count.

import { describe, expect, test } from 'bun:test'
import { call, startTestGateway } from '../helpers/gateway'
import { createHistogram } from '../../src/control/histogram'
import { renderMetrics, type MetricsSnapshot } from '../../src/control/metrics'

type Sample = { name: string; labels: Record<string, string>; value: number }

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (\\S+)$`)
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/

/** Parses exposition text strictly; throws on the first line that is not valid. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  expect(text.endsWith('\n')).toBe(true)
  const types = new Map<string, string>()
  const helped = new Set<string>()
  const samples: Sample[] = []
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      if (helped.has(m[1]!)) throw new Error(`second HELP: ${line}`)
      helped.add(m[1]!)
    } else if (
      (m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))
    ) {
      if (types.has(m[1]!)) throw new Error(`second TYPE: ${line}`)
      types.set(m[1]!, m[2]!)
    } else if ((m = SAMPLE.exec(line))) {
      const [, name, rawLabels, value] = m
      if (!VALUE.test(value!)) throw new Error(`bad value: ${line}`)
      const family = name!.replace(/_(bucket|sum|count)$/, '')
      if (!types.has(name!) && types.get(family) !== 'histogram') {
        throw new Error(`sample before its TYPE: ${line}`)
      }
      const labels: Record<string, string> = {}
      for (const lm of (rawLabels ?? '').matchAll(
        /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
      )) {
        labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
      }
      samples.push({ name: name!, labels, value: value === '+Inf' ? Infinity : Number(value) })
    } else {
      throw new Error(`not exposition format: ${JSON.stringify(line)}`)
    }
  }
  return { types, samples }
}

function snapshot(): MetricsSnapshot {
  const h = createHistogram([0.1, 1, 10])
  for (const s of [0.05, 0.1, 0.5, 3, 12, 400]) h.observe(s)
  return {
    uptimeS: 3600,
    inFlight: 4,
    flushLagMs: 250,
    flushPending: 17,
    requests: [
      { surface: 'openai', model: 'gpt-4o-mini', outcome: 'ok', count: 120 },
      { surface: 'anthropic', model: 'claude "x"\\new\nline', outcome: 'ratelimited', count: 2 },
    ],
    tokens: [{ surface: 'openai', model: 'gpt-4o-mini', kind: 'prompt', count: 5400 }],
    cost: [{ model: 'gpt-4o-mini', nano: 1_234_567_890_123 }],
    upstreamLatency: [{ type: 'openai', hist: h.snapshot() }],
    keys: [{ name: 'oa-1', type: 'openai', level: 1, state: 'sleeping' }],
  }
}

describe('renderMetrics', () => {
  test('every line is valid exposition format, with HELP and TYPE per family', () => {
    const { types, samples } = parseExposition(renderMetrics(snapshot()))
    expect(types.get('xgate_requests_total')).toBe('counter')
    expect(types.get('xgate_upstream_latency_seconds')).toBe('histogram')
    expect(types.get('xgate_requests_in_flight')).toBe('gauge')
    expect(samples.length).toBeGreaterThan(15)
  })

  test('values and escaped labels read back as they went in', () => {
    const { samples } = parseExposition(renderMetrics(snapshot()))
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.find(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      )?.value
    expect(find('xgate_flush_lag_seconds')).toBe(0.25)
    expect(find('xgate_requests_in_flight')).toBe(4)
    expect(find('xgate_requests_total', { model: 'claude "x"\\new\nline' })).toBe(2)
    expect(find('xgate_cost_nanousd_total', { model: 'gpt-4o-mini' })).toBe(1_234_567_890_123)
    expect(find('xgate_upstream_key_state', { key: 'oa-1', state: 'sleeping' })).toBe(1)
    expect(find('xgate_upstream_key_state', { key: 'oa-1', state: 'active' })).toBe(0)
  })

  test('histogram buckets are cumulative and +Inf equals _count', () => {
    const { samples } = parseExposition(renderMetrics(snapshot()))
    const buckets = samples.filter((s) => s.name === 'xgate_upstream_latency_seconds_bucket')
    expect(buckets.map((b) => b.labels.le)).toEqual(['0.1', '1', '10', '+Inf'])
    expect(buckets.map((b) => b.value)).toEqual([2, 3, 4, 6])
    const count = samples.find((s) => s.name === 'xgate_upstream_latency_seconds_count')!.value
    const sum = samples.find((s) => s.name === 'xgate_upstream_latency_seconds_sum')!.value
    expect(count).toBe(6)
    expect(sum).toBeCloseTo(415.65, 6)
  })

  test('an idle gateway still renders valid text', () => {
    const empty: MetricsSnapshot = {
      uptimeS: 0,
      inFlight: 0,
      flushLagMs: 0,
      flushPending: 0,
      requests: [],
      tokens: [],
      cost: [],
      upstreamLatency: [],
      keys: [],
    }
    const { samples } = parseExposition(renderMetrics(empty))
    expect(samples.map((s) => s.name)).toEqual([
      'xgate_uptime_seconds',
      'xgate_requests_in_flight',
      'xgate_flush_lag_seconds',
      'xgate_flush_pending',
    ])
  })

  test('the parser rejects what is not exposition format', () => {
    expect(() => parseExposition('foo bar baz\n')).toThrow()
    expect(() => parseExposition('# TYPE x counter\nx{a="b} 1\n')).toThrow()
    expect(() => parseExposition('y 1\n')).toThrow(/before its TYPE/)
  })
})

describe('GET /metrics on a running gateway', () => {
  test('an idle gateway reports 0 calls in flight: the scrape does not count itself', async () => {
    const gw = await startTestGateway()
    try {
      for (let i = 0; i < 2; i++) {
        const m = await call(gw, 'GET', '/metrics')
        expect(m.status).toBe(200)
        expect(m.text).toMatch(/^xgate_requests_in_flight 0$/m)
      }
    } finally {
      await gw.close()
    }
  })
})
