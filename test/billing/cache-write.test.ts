// Cache-write prices: defaults from the provider's multipliers of input, overrides, validation,
// exact costs on both paths of costNano, and the Anthropic usage that carries the writes.
import { describe, expect, test } from 'bun:test'
import { compilePrice, costNano, createPricing, validatePrices } from '../../src/billing/pricing'
import { AppError } from '../../src/shared/errors'
import { anthropicBody, anthropicEvent, anthropicUsage } from '../../src/proxy/providers/anthropic'
import { Meter } from '../../src/proxy/meter'

const noTokenizer = { count: () => 0, prompt: () => 0 }

describe('cache-write prices', () => {
  test('absent: 1.25 × input for 5-minute writes, 2 × input for 1-hour writes', () => {
    const p = compilePrice({ input: 3, cached_input: 0.3, output: 15 })
    expect(p.nano.cacheWritePerM).toBe(3_750_000_000n)
    expect(p.nano.cacheWrite1hPerM).toBe(6_000_000_000n)
    // Multipliers of a price with a fraction of a nano-dollar per million round to the nearest.
    expect(compilePrice({ input: 0.000000003 }).nano.cacheWritePerM).toBe(4n)
    expect(compilePrice({ output: 1 }).nano.cacheWritePerM).toBe(0n)
  })

  test('given: used as they are, each independent of the other', () => {
    const p = compilePrice({ input: 3, cache_write: 4, output: 15 })
    expect(p.cache_write).toBe(4)
    expect(p.nano.cacheWritePerM).toBe(4_000_000_000n)
    expect(p.nano.cacheWrite1hPerM).toBe(6_000_000_000n)
    const q = compilePrice({ input: 3, cache_write_1h: 0 })
    expect(q.nano.cacheWritePerM).toBe(3_750_000_000n)
    expect(q.nano.cacheWrite1hPerM).toBe(0n)
  })

  test('the embedded table defaults its Anthropic models the same way', () => {
    const p = createPricing().lookup('claude-sonnet-4-0')!
    expect(p.nano.cacheWritePerM).toBe(3_750_000_000n)
    expect(p.nano.cacheWrite1hPerM).toBe(6_000_000_000n)
  })

  test('a MODEL_PRICES override with cache-write prices replaces the entry', () => {
    const pricing = createPricing({
      'claude-sonnet-4-0': {
        input: 2,
        cached_input: 0.2,
        cache_write: 2.2,
        cache_write_1h: 3.3,
        output: 10,
      },
    })
    const p = pricing.lookup('claude-sonnet-4-0')!
    expect(p).toMatchObject({ input: 2, cache_write: 2.2, cache_write_1h: 3.3 })
    // 100 fresh × 2 + 10 reads × 0.2 + 30 5-minute writes × 2.2 + 20 1-hour writes × 3.3 + 5 × 10
    const u = {
      promptTokens: 160,
      completionTokens: 5,
      cachedTokens: 10,
      cacheWriteTokens: 50,
      cacheWrite1hTokens: 20,
    }
    expect(costNano(p, u).listNano).toBe(200_000 + 2_000 + 66_000 + 66_000 + 50_000)
  })
})

describe('validation of cache-write prices', () => {
  test('negative, non-number or too large values name the model and field', () => {
    expect(validatePrices({ m: { cache_write: -1 } })).toBe(
      'MODEL_PRICES["m"].cache_write must be a finite number >= 0',
    )
    expect(validatePrices({ m: { input: 1, cache_write_1h: '2' } })).toBe(
      'MODEL_PRICES["m"].cache_write_1h must be a finite number >= 0',
    )
    expect(validatePrices({ m: { cache_write_1h: 2_000_000 } })).toBe(
      'MODEL_PRICES["m"].cache_write_1h must be at most 1000000',
    )
  })

  test('an unknown field lists the known ones, cache writes included', () => {
    const msg = validatePrices({ m: { cache_write_5m: 1 } })!
    expect(msg).toStartWith('MODEL_PRICES["m"].cache_write_5m is not a known field')
    expect(msg).toContain('cache_write, cache_write_1h')
  })

  test('valid entries with cache writes pass; createPricing refuses a bad one with param', () => {
    expect(validatePrices({ m: { cache_write: 0, cache_write_1h: 7.5 } })).toBeNull()
    let err: unknown
    try {
      createPricing({ m: { cache_write: -2 } })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).message).toContain('cache_write')
    expect((err as AppError).param).toBe('MODEL_PRICES')
  })
})

describe('costNano with cache writes', () => {
  // claude-sonnet-4-0: input 3, cached_input 0.3, output 15; writes 3.75 (5 min) and 6 (1 h).
  const price = createPricing().lookup('claude-sonnet-4-0')!

  test('5-minute writes at 1.25 × input, 1-hour writes at 2 × input', () => {
    const base = { promptTokens: 1000, completionTokens: 0, cachedTokens: 0 }
    expect(costNano(price, base).listNano).toBe(3_000_000)
    expect(costNano(price, { ...base, cacheWriteTokens: 1000 }).listNano).toBe(3_750_000)
    expect(
      costNano(price, { ...base, cacheWriteTokens: 1000, cacheWrite1hTokens: 1000 }).listNano,
    ).toBe(6_000_000)
    // 400 fresh, 100 reads, 300 5-minute and 200 1-hour writes, 10 out (µUSD a thousand tokens):
    // 0.4×3000 + 0.1×300 + 0.3×3750 + 0.2×6000 + 0.01×15000 = 1200 + 30 + 1125 + 1200 + 150
    const mixed = {
      promptTokens: 1000,
      completionTokens: 10,
      cachedTokens: 100,
      cacheWriteTokens: 500,
      cacheWrite1hTokens: 200,
    }
    expect(costNano(price, mixed)).toEqual({ listNano: 3_705_000, chargedNano: 3_705_000 })
  })

  test('one rounding: fractions of a nano-dollar add up before rounding, on both paths', () => {
    // input 0.2 nano-USD a token, so writes 0.25 (5 min) and 0.4 (1 h) a token.
    const tiny = compilePrice({ input: 0.0002 })
    const u = (writes: number, fresh = 0, h1 = 0) => ({
      promptTokens: writes + fresh,
      completionTokens: 0,
      cachedTokens: 0,
      cacheWriteTokens: writes,
      cacheWrite1hTokens: h1,
    })
    expect(costNano(tiny, u(1)).listNano).toBe(0) // 0.25
    expect(costNano(tiny, u(2)).listNano).toBe(1) // 0.5, half up
    expect(costNano(tiny, u(6)).listNano).toBe(2) // 1.5, not 6 × round(0.25) = 0
    expect(costNano(tiny, u(3, 1, 2)).listNano).toBe(1) // 0.2 + 0.25 + 0.8 = 1.25
    // Rates 3 takes the BigInt path: 1.5 × 3 = 4.5 → 5, the list price still 2.
    expect(costNano(tiny, u(6), 3)).toEqual({ listNano: 2, chargedNano: 5 })
  })

  test('the number and BigInt paths agree on random usage', () => {
    let seed = 7
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % n
    }
    for (let i = 0; i < 500; i++) {
      const prompt = rnd(2_000_000)
      const u = {
        promptTokens: prompt,
        completionTokens: rnd(100_000),
        cachedTokens: rnd(prompt + 1),
        cacheWriteTokens: rnd(prompt + 1),
        cacheWrite1hTokens: rnd(prompt + 1),
      }
      const fast = costNano(price, u)
      // Rates 1.000000001 is not 1 in nano form: the BigInt path, whose list price is the same.
      const big = costNano(price, u, 1.000000001)
      expect(big.listNano).toBe(fast.listNano)
    }
  })

  test('writes are clamped to what cache reads leave of the prompt; 1-hour to the writes', () => {
    const u = {
      promptTokens: 100,
      completionTokens: 0,
      cachedTokens: 60,
      cacheWriteTokens: 90,
      cacheWrite1hTokens: 500,
    }
    // 60 reads × 300 + 40 1-hour writes × 6000 nano-USD = 18,000 + 240,000
    expect(costNano(price, u).listNano).toBe(258_000)
    expect(costNano(price, u, 1.000000001).listNano).toBe(258_000)
    // Garbage counts bill nothing extra.
    expect(
      costNano(price, { ...u, cacheWriteTokens: -5, cacheWrite1hTokens: Number.NaN }).listNano,
    ).toBe(costNano(price, { promptTokens: 100, completionTokens: 0, cachedTokens: 60 }).listNano)
  })

  test('a price without input bills writes at 0, not at the other prices', () => {
    const p = compilePrice({ output: 10 })
    expect(
      costNano(p, {
        promptTokens: 100,
        completionTokens: 1,
        cachedTokens: 0,
        cacheWriteTokens: 100,
      }).listNano,
    ).toBe(10_000)
  })
})

describe('Anthropic usage with cache writes', () => {
  test('cache_creation_input_tokens are writes and part of the prompt', () => {
    expect(
      anthropicUsage({
        input_tokens: 50,
        cache_creation_input_tokens: 10,
        cache_read_input_tokens: 40,
        output_tokens: 20,
      }),
    ).toEqual({
      promptTokens: 100,
      completionTokens: 20,
      cachedTokens: 40,
      cacheWriteTokens: 10,
      cacheWrite1hTokens: 0,
    })
  })

  test('the 1-hour split when sent; a total below the split is raised to it', () => {
    const split = { ephemeral_5m_input_tokens: 30, ephemeral_1h_input_tokens: 70 }
    expect(
      anthropicUsage({
        input_tokens: 5,
        cache_creation_input_tokens: 100,
        cache_creation: split,
        output_tokens: 1,
      }),
    ).toMatchObject({ promptTokens: 105, cacheWriteTokens: 100, cacheWrite1hTokens: 70 })
    expect(
      anthropicUsage({ input_tokens: 5, cache_creation: split, output_tokens: 1 }),
    ).toMatchObject({ promptTokens: 105, cacheWriteTokens: 100, cacheWrite1hTokens: 70 })
  })

  test('a stream: message_start gives the writes, message_delta keeps them', () => {
    const m = new Meter(noTokenizer)
    const usage = {
      input_tokens: 5,
      cache_creation_input_tokens: 100,
      cache_creation: { ephemeral_5m_input_tokens: 40, ephemeral_1h_input_tokens: 60 },
      cache_read_input_tokens: 0,
      output_tokens: 1,
    }
    anthropicEvent(JSON.stringify({ type: 'message_start', message: { usage } }), m)
    anthropicEvent(JSON.stringify({ type: 'message_delta', usage: { output_tokens: 9 } }), m)
    expect(m.final(null)).toEqual({
      usage: {
        promptTokens: 105,
        completionTokens: 9,
        cachedTokens: 0,
        cacheWriteTokens: 100,
        cacheWrite1hTokens: 60,
      },
      estimated: false,
    })
  })

  test('a message_delta that repeats the input figures without the split keeps the split', () => {
    const m = new Meter(noTokenizer)
    const start = {
      input_tokens: 5,
      cache_creation_input_tokens: 100,
      cache_creation: { ephemeral_5m_input_tokens: 40, ephemeral_1h_input_tokens: 60 },
      output_tokens: 1,
    }
    anthropicEvent(JSON.stringify({ type: 'message_start', message: { usage: start } }), m)
    const repeat = { input_tokens: 5, cache_creation_input_tokens: 100, output_tokens: 9 }
    anthropicEvent(JSON.stringify({ type: 'message_delta', usage: repeat }), m)
    expect(m.usage).toMatchObject({ cacheWriteTokens: 100, cacheWrite1hTokens: 60 })
  })

  test('a stream cut short keeps the reported writes in its estimate', () => {
    const m = new Meter(noTokenizer)
    const usage = { input_tokens: 5, cache_creation_input_tokens: 20, output_tokens: 1 }
    anthropicEvent(JSON.stringify({ type: 'message_start', message: { usage } }), m)
    expect(m.final(null)).toMatchObject({
      usage: { promptTokens: 25, cacheWriteTokens: 20, cacheWrite1hTokens: 0 },
      estimated: true,
    })
  })

  test('a whole message', () => {
    const m = new Meter(noTokenizer)
    anthropicBody(
      {
        usage: {
          input_tokens: 1,
          cache_creation_input_tokens: 8,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 8 },
          output_tokens: 2,
        },
      },
      m,
    )
    expect(m.usage).toMatchObject({ promptTokens: 9, cacheWriteTokens: 8, cacheWrite1hTokens: 8 })
  })
})
