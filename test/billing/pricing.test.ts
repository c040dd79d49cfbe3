// Tests for the price book: the embedded table, wildcard lookup, overrides, validation and the
// exact nano-USD arithmetic of costNano (examples plus fast-check properties).

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import table from '../../src/billing/prices.json'
import {
  compilePrice,
  costNano,
  createPricing,
  validatePrices,
  type Usage,
} from '../../src/billing/pricing'
import { AppError } from '../../src/shared/errors'

const REQUIRED_MODELS = `
  gpt-4o gpt-4o-mini gpt-4.1 gpt-4.1-mini gpt-4.1-nano o1 o3 o3-mini o4-mini gpt-5 gpt-5-mini
  gpt-5-nano text-embedding-3-small text-embedding-3-large text-embedding-ada-002 whisper-1
  tts-1 tts-1-hd dall-e-2 dall-e-3 gpt-image-1 omni-moderation-latest text-moderation-latest
  gpt-3.5-turbo gpt-3.5-turbo-instruct claude-3-5-haiku-20241022 claude-3-5-haiku-latest
  claude-3-5-sonnet-20241022 claude-3-7-sonnet-20250219 claude-sonnet-4-20250514
  claude-sonnet-4-0 claude-sonnet-4-5 claude-sonnet-4-5-20250929 claude-opus-4-20250514
  claude-opus-4-1-20250805 claude-haiku-4-5-20251001
`
  .trim()
  .split(/\s+/)

describe('embedded table', () => {
  test('passes its own validation', () => {
    expect(validatePrices(table)).toBeNull()
  })

  test('prices every model xgate promises to cover', () => {
    const pricing = createPricing()
    const missing = REQUIRED_MODELS.filter((m) => pricing.lookup(m) === undefined)
    expect(missing).toEqual([])
  })

  test('has the published prices for a few anchors', () => {
    const pricing = createPricing()
    expect(pricing.lookup('gpt-4o-mini')).toMatchObject({
      input: 0.15,
      cached_input: 0.075,
      output: 0.6,
    })
    expect(pricing.lookup('dall-e-3')).toMatchObject({ per_image: 0.04 })
    expect(pricing.lookup('claude-sonnet-4-5-20250929')).toMatchObject({
      input: 3,
      cached_input: 0.3,
    })
    expect(pricing.lookup('omni-moderation-latest')?.per_request).toBe(0)
  })

  test('models() lists exact names only', () => {
    const names = createPricing().models()
    expect(names).toContain('gpt-4o')
    expect(names.some((n) => n.includes('*'))).toBe(false)
  })
})

describe('lookup', () => {
  test('exact name wins over any pattern', () => {
    const pricing = createPricing({ 'gpt-4o*': { input: 99, output: 99 } })
    expect(pricing.lookup('gpt-4o')?.input).toBe(2.5)
    expect(pricing.lookup('gpt-4o-audio-preview')?.input).toBe(99)
  })

  test('the most specific pattern wins, whatever the key order', () => {
    for (const overrides of [
      { 'my-*': { input: 1 }, 'my-model-*': { input: 2 }, 'my-model-x*': { input: 3 } },
      { 'my-model-x*': { input: 3 }, 'my-model-*': { input: 2 }, 'my-*': { input: 1 } },
    ]) {
      const pricing = createPricing(overrides)
      expect(pricing.lookup('my-model-x1')?.input).toBe(3)
      expect(pricing.lookup('my-model-y')?.input).toBe(2)
      expect(pricing.lookup('my-other')?.input).toBe(1)
      expect(pricing.lookup('my-model-x1')?.key).toBe('my-model-x*')
    }
  })

  test('patterns are anchored and treat dots literally', () => {
    const pricing = createPricing({ 'acme-1.5*': { input: 1 }, '*-suffix': { input: 2 } })
    expect(pricing.lookup('acme-1.5-pro')?.input).toBe(1)
    expect(pricing.lookup('acme-105')).toBeUndefined()
    expect(pricing.lookup('xacme-1.5')).toBeUndefined()
    expect(pricing.lookup('model-suffix')?.input).toBe(2)
    expect(pricing.lookup('model-suffix-not')).toBeUndefined()
  })

  test('an override replaces the whole entry for that key', () => {
    const pricing = createPricing({ 'gpt-4o-mini': { input: 1 } })
    const p = pricing.lookup('gpt-4o-mini')
    expect(p).toMatchObject({ input: 1 })
    expect(p?.output).toBeUndefined()
    expect(p?.cached_input).toBeUndefined()
  })

  test('unknown models are undefined', () => {
    expect(createPricing().lookup('no-such-model')).toBeUndefined()
    expect(createPricing().lookup('')).toBeUndefined()
  })

  test('invalid overrides throw a bad_request naming the field', () => {
    let caught: unknown
    try {
      createPricing({ 'x-model': { input: -1 } })
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(AppError)
    expect((caught as AppError).code).toBe('bad_request')
    expect((caught as AppError).message).toContain('x-model')
    expect((caught as AppError).message).toContain('input')
  })
})

describe('validatePrices', () => {
  const cases: [unknown, string][] = [
    [null, 'JSON object'],
    [[], 'JSON object'],
    ['x', 'JSON object'],
    [{ m: 5 }, '"m"'],
    [{ m: {} }, 'at least one'],
    [{ m: { input: 'cheap' } }, '"m"].input'],
    [{ m: { input: Number.NaN } }, '"m"].input'],
    [{ m: { output: Number.POSITIVE_INFINITY } }, '"m"].output'],
    [{ m: { per_image: -0.01 } }, '"m"].per_image'],
    [{ m: { input: 1, typo_field: 2 } }, 'typo_field'],
    [{ m: { input: 1e9 } }, 'at most'],
    [{ '': { input: 1 } }, 'model name'],
  ]
  for (const [value, fragment] of cases) {
    test(`rejects ${JSON.stringify(value) ?? String(value)}`, () => {
      const message = validatePrices(value)
      expect(message).not.toBeNull()
      expect(message).toContain(fragment)
    })
  }

  test('accepts every known field, zero included', () => {
    const ok = { a: { input: 0, cached_input: 0, output: 0, per_image: 0.5, per_request: 0 } }
    expect(validatePrices(ok)).toBeNull()
    expect(createPricing().validatePrices(ok)).toBeNull()
  })
})

describe('costNano examples', () => {
  const mini = compilePrice({ input: 0.15, cached_input: 0.075, output: 0.6 })

  test('splits the prompt into cached and uncached tokens', () => {
    // 1000 prompt of which 400 cached, 500 completion:
    // 600 × 150 + 400 × 75 + 500 × 600 = 420,000 nano-USD.
    const usage = { promptTokens: 1000, cachedTokens: 400, completionTokens: 500 }
    expect(costNano(mini, usage)).toEqual({ listNano: 420_000, chargedNano: 420_000 })
    expect(costNano(mini, usage, 1.5)).toEqual({ listNano: 420_000, chargedNano: 630_000 })
  })

  test('rounds once per call, half up', () => {
    // A price of 0.00015 USD per million is 0.15 nano-USD per token: 3 tokens 0.45 → 0, 4 → 1.
    const cheap = compilePrice({ input: 0.00015, cached_input: 0.000075 })
    const tokens = (n: number) => ({ promptTokens: n, cachedTokens: 0, completionTokens: 0 })
    expect(costNano(cheap, tokens(3)).listNano).toBe(0)
    expect(costNano(cheap, tokens(4)).listNano).toBe(1)
    // 0.45 × 3 = 1.35 → 1 when the rates multiply the exact sum (rounding first would give 0).
    expect(costNano(cheap, tokens(3), 3).chargedNano).toBe(1)
    // 10 cached tokens at 0.075 = 0.75 → 1; the same tokens uncached 1.5 → 2.
    expect(costNano(cheap, { ...tokens(10), cachedTokens: 10 }).listNano).toBe(1)
    expect(costNano(cheap, tokens(10)).listNano).toBe(2)
  })

  test('without cached_input, cached tokens cost the input price', () => {
    const p = compilePrice({ input: 1, output: 2 })
    const usage = { promptTokens: 10, cachedTokens: 10, completionTokens: 0 }
    expect(costNano(p, usage).listNano).toBe(10_000)
  })

  test('per image and per request', () => {
    const dalle = compilePrice({ per_image: 0.04 })
    const three = { promptTokens: 0, cachedTokens: 0, completionTokens: 0, images: 3 }
    expect(costNano(dalle, three).listNano).toBe(120_000_000)
    const tts = compilePrice({ per_request: 0.015 })
    expect(costNano(tts, { promptTokens: 0, cachedTokens: 0, completionTokens: 0 }).listNano).toBe(
      15_000_000,
    )
    const noCall = { promptTokens: 0, cachedTokens: 0, completionTokens: 0, requests: 0 }
    expect(costNano(tts, noCall).listNano).toBe(0)
  })

  test('garbage counts are treated as zero and cached is capped by prompt', () => {
    const usage = { promptTokens: Number.NaN, cachedTokens: -5, completionTokens: -1 }
    expect(costNano(mini, usage)).toEqual({ listNano: 0, chargedNano: 0 })
    const capped = { promptTokens: 10, cachedTokens: 50, completionTokens: 0 }
    expect(costNano(mini, capped).listNano).toBe(750) // all 10 cached at 75 nano-USD each
  })

  test('bad rates are a programming error', () => {
    const usage = { promptTokens: 1, cachedTokens: 0, completionTokens: 0 }
    expect(() => costNano(mini, usage, -1)).toThrow(RangeError)
    expect(() => costNano(mini, usage, Number.NaN)).toThrow(RangeError)
  })

  test('huge usage stays a safe integer', () => {
    const p = compilePrice({ input: 1_000_000, output: 1_000_000 })
    const usage = { promptTokens: 1e18, cachedTokens: 0, completionTokens: 1e18 }
    const cost = costNano(p, usage, 2)
    expect(Number.isSafeInteger(cost.listNano)).toBe(true)
    expect(Number.isSafeInteger(cost.chargedNano)).toBe(true)
  })
})

describe('costNano properties', () => {
  // Prices with up to 6 decimals (as published), plus absent fields.
  const usd = fc.option(
    fc.integer({ min: 0, max: 200_000_000 }).map((n) => n / 1e6),
    {
      nil: undefined,
    },
  )
  const price = fc
    .record({ input: usd, cached_input: usd, output: usd, per_image: usd, per_request: usd })
    .map((e) => compilePrice(e))
  const usageOf = (tokens: fc.Arbitrary<number>, maxImages: number, maxRequests: number) =>
    fc.record({
      promptTokens: tokens,
      cachedTokens: tokens,
      completionTokens: tokens,
      images: fc.option(fc.integer({ min: 0, max: maxImages }), { nil: undefined }),
      requests: fc.option(fc.integer({ min: 0, max: maxRequests }), { nil: undefined }),
    })
  const tokens = fc.integer({ min: 0, max: 2_000_000_000 })
  const usage = usageOf(tokens, 100, 5)
  const rates = fc.integer({ min: 0, max: 100_000_000 }).map((n) => n / 1e6)

  test('never negative, always a safe integer', () => {
    fc.assert(
      fc.property(price, usage, rates, (p, u, r) => {
        const c = costNano(p, u, r)
        return (
          Number.isSafeInteger(c.listNano) &&
          Number.isSafeInteger(c.chargedNano) &&
          c.listNano >= 0 &&
          c.chargedNano >= 0
        )
      }),
    )
  })

  test('charged equals list at rates 1', () => {
    fc.assert(
      fc.property(price, usage, (p, u) => {
        const c = costNano(p, u, 1)
        return c.chargedNano === c.listNano
      }),
    )
  })

  // costNano() takes a plain-number path while the sum is a safe integer; this reference stays
  // in BigInt throughout, so the two must agree to the nano on small and huge usage alike.
  test('equals an all-BigInt reference at any rates, small or huge usage', () => {
    const big = (n: number | undefined) =>
      typeof n === 'number' && Number.isFinite(n) && n > 0 ? BigInt(Math.floor(n)) : 0n
    const reference = (p: ReturnType<typeof compilePrice>, u: Usage, r: number) => {
      const prompt = big(u.promptTokens)
      const cached = big(u.cachedTokens) > prompt ? prompt : big(u.cachedTokens)
      const req = u.requests === undefined ? 1n : big(u.requests)
      const n = p.nano
      const sum =
        (prompt - cached) * n.inputPerM +
        cached * n.cachedInputPerM +
        big(u.completionTokens) * n.outputPerM +
        (big(u.images) * n.perImage + req * n.perRequest) * 1_000_000n
      const cap = (x: bigint) =>
        x > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(x)
      const rn = BigInt(Math.round(r * 1e9))
      return {
        listNano: cap((sum + 500_000n) / 1_000_000n),
        chargedNano: cap((sum * rn + 500_000_000_000_000n) / 1_000_000_000_000_000n),
      }
    }
    const smallUsage = usageOf(fc.integer({ min: 0, max: 50_000 }), 10, 2)
    fc.assert(
      fc.property(price, fc.oneof(smallUsage, usage), fc.oneof(fc.constant(1), rates), (p, u, r) =>
        expect(costNano(p, u, r)).toEqual(reference(p, u, r)),
      ),
      { numRuns: 2000 },
    )
  })

  test('monotone in prompt and completion tokens', () => {
    fc.assert(
      fc.property(price, usage, tokens, rates, (p, u, extra, r) => {
        const base = costNano(p, u, r)
        const morePrompt = costNano(p, { ...u, promptTokens: u.promptTokens + extra }, r)
        const moreOutput = costNano(p, { ...u, completionTokens: u.completionTokens + extra }, r)
        return (
          morePrompt.listNano >= base.listNano &&
          morePrompt.chargedNano >= base.chargedNano &&
          moreOutput.listNano >= base.listNano &&
          moreOutput.chargedNano >= base.chargedNano
        )
      }),
    )
  })

  test('monotone in rates', () => {
    fc.assert(
      fc.property(price, usage, rates, rates, (p, u, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        return costNano(p, u, lo).chargedNano <= costNano(p, u, hi).chargedNano
      }),
    )
  })

  test('agrees with a floating-point estimate to within rounding', () => {
    const small = fc.integer({ min: 0, max: 100_000 })
    fc.assert(
      fc.property(price, small, small, small, (p, prompt, cachedRaw, completion) => {
        const cached = Math.min(cachedRaw, prompt)
        const perM = (usdPrice: number | undefined) => ((usdPrice ?? 0) * 1e9) / 1e6
        const expected =
          (prompt - cached) * perM(p.input) +
          cached * perM(p.cached_input ?? p.input) +
          completion * perM(p.output) +
          (p.per_request ?? 0) * 1e9
        const got = costNano(p, {
          promptTokens: prompt,
          cachedTokens: cached,
          completionTokens: completion,
        })
        return Math.abs(got.listNano - expected) <= 1
      }),
    )
  })
})
