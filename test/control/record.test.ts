// recordCall(): the Xray-style counters of each scope and the /metrics aggregates, through the
// cached cells; a dropped account starts from zero on its next call.
import { describe, expect, test } from 'bun:test'
import { createGatewayStats, type CallFacts } from '../../src/control/record'
import { createFakeClock } from '../../src/shared/clock'

const call = (over: Partial<CallFacts> = {}): CallFacts => ({
  account: 'alice',
  surface: 'openai',
  keyName: 'key1',
  keyType: 'openai',
  model: 'gpt-4o-mini',
  uplinkBytes: 100,
  downlinkBytes: 600,
  outcome: 'ok',
  promptTokens: 12,
  completionTokens: 8,
  cachedTokens: 2,
  costNano: 9_900,
  upstreamLatencyS: 0.05,
  ...over,
})

describe('recordCall', () => {
  test('every scope counts traffic, requests, errors, tokens and cost', () => {
    const s = createGatewayStats(createFakeClock())
    s.recordCall(call())
    s.recordCall(call({ outcome: 'error', promptTokens: 0, completionTokens: 0, costNano: 0 }))
    s.recordCall(call({ outcome: 'ratelimited', keyName: undefined, keyType: undefined }))
    const get = (n: string) => s.counters.get(n)
    for (const id of ['user>>>alice', 'inbound>>>openai']) {
      expect(get(`${id}>>>traffic>>>uplink`)).toBe(300)
      expect(get(`${id}>>>traffic>>>downlink`)).toBe(1800)
      expect(get(`${id}>>>requests>>>total`)).toBe(3)
      expect(get(`${id}>>>requests>>>errors`)).toBe(1)
      expect(get(`${id}>>>requests>>>ratelimited`)).toBe(1)
      expect(get(`${id}>>>tokens>>>prompt`)).toBe(24)
      expect(get(`${id}>>>tokens>>>completion`)).toBe(16)
      expect(get(`${id}>>>tokens>>>cached`)).toBe(6)
      expect(get(`${id}>>>cost>>>nanousd`)).toBe(19_800)
    }
    expect(get('outbound>>>key1>>>requests>>>total')).toBe(2)
    expect(get('model>>>gpt-4o-mini>>>requests>>>total')).toBe(3)
    expect(get('model>>>gpt-4o-mini>>>traffic>>>uplink')).toBeUndefined()
  })

  test('the /metrics aggregates by surface, model and outcome; latency per key type', () => {
    const s = createGatewayStats(createFakeClock())
    s.recordCall(call())
    s.recordCall(call())
    s.recordCall(call({ outcome: 'error', surface: 'anthropic', model: 'claude-haiku-4-5' }))
    s.recordCall(call({ model: undefined, promptTokens: 0, completionTokens: 0, cachedTokens: 0 }))
    const snap = s.snapshot()
    const sort = <T>(a: T[]) => a.map((x) => JSON.stringify(x)).sort()
    expect(sort(snap.requests)).toEqual(
      sort([
        { surface: 'openai', model: 'gpt-4o-mini', outcome: 'ok', count: 2 },
        { surface: 'anthropic', model: 'claude-haiku-4-5', outcome: 'error', count: 1 },
        { surface: 'openai', model: '', outcome: 'ok', count: 1 },
      ]),
    )
    expect(sort(snap.tokens)).toEqual(
      sort([
        { surface: 'openai', model: 'gpt-4o-mini', kind: 'prompt', count: 24 },
        { surface: 'openai', model: 'gpt-4o-mini', kind: 'completion', count: 16 },
        { surface: 'openai', model: 'gpt-4o-mini', kind: 'cached', count: 4 },
        { surface: 'anthropic', model: 'claude-haiku-4-5', kind: 'prompt', count: 12 },
        { surface: 'anthropic', model: 'claude-haiku-4-5', kind: 'completion', count: 8 },
        { surface: 'anthropic', model: 'claude-haiku-4-5', kind: 'cached', count: 2 },
      ]),
    )
    expect(sort(snap.cost)).toEqual(
      sort([
        { model: 'gpt-4o-mini', nano: 19_800 },
        { model: 'claude-haiku-4-5', nano: 9_900 },
        { model: '', nano: 9_900 },
      ]),
    )
    expect(snap.upstreamLatency.map((l) => l.type)).toEqual(['openai'])
  })

  test('after dropAccount the next call counts from zero in the registry', () => {
    const s = createGatewayStats(createFakeClock())
    s.recordCall(call())
    s.recordCall(call())
    s.dropAccount('alice')
    expect(s.counters.get('user>>>alice>>>requests>>>total')).toBeUndefined()
    expect(s.counters.get('inbound>>>openai>>>requests>>>total')).toBe(2)
    s.recordCall(call())
    expect(s.counters.get('user>>>alice>>>requests>>>total')).toBe(1)
    expect(s.counters.get('inbound>>>openai>>>requests>>>total')).toBe(3)
    expect(s.counters.get('user>>>alice>>>cost>>>nanousd')).toBe(9_900)
  })

  test('an ID with `>` is sanitized and still one cached bundle per ID', () => {
    const s = createGatewayStats(createFakeClock())
    s.recordCall(call({ model: 'a>b' }))
    s.recordCall(call({ model: 'a>b' }))
    expect(s.counters.get('model>>>a_b>>>requests>>>total')).toBe(2)
  })
})
