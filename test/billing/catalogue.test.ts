// The embedded model catalogue: beneath prices.json and MODEL_PRICES, every entry a valid price,
// its limits on every resolved price of the model, and in step with the pinned packages.
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildCatalogue, keysOf, priceOn, renderCatalogue } from '../../scripts/catalogue'
import { createPricing, validatePrices, type CatalogueEntry } from '../../src/billing/pricing'
import catalogueJson from '../../src/billing/catalogue.json'
import table from '../../src/billing/prices.json'

const FILE = join(import.meta.dir, '../../src/billing/catalogue.json')
const models = (catalogueJson as { models: Record<string, CatalogueEntry> }).models

describe('catalogue.json', () => {
  test('every entry is a valid price with positive integer limits', () => {
    const prices: Record<string, unknown> = {}
    for (const [k, { context, max_output, ...price }] of Object.entries(models)) {
      prices[k] = price
      for (const n of [context, max_output]) {
        if (n !== undefined) expect(Number.isInteger(n) && n > 0, k).toBe(true)
      }
    }
    expect(validatePrices(prices)).toBeNull()
    expect(Object.keys(models).length).toBeGreaterThan(100)
  })

  test('is what scripts/catalogue.ts makes from the pinned packages on its date', async () => {
    const date = (catalogueJson as { date: string }).date
    expect(await renderCatalogue(buildCatalogue(date))).toBe(readFileSync(FILE, 'utf8'))
  })
})

describe('lookup with the catalogue', () => {
  const pricing = createPricing()

  test('a model only the catalogue knows is priced from it, with its limits', () => {
    // prices.json stops at claude-opus-4-5*; the catalogue knows the next ones.
    const p = pricing.lookup('claude-opus-4-6-20260205')!
    expect(p).toMatchObject({ key: 'claude-opus-4-6*', input: 5, cache_write: 6.25 })
    expect(p.contextTokens).toBe(models['claude-opus-4-6*']!.context!)
    const gpt = pricing.lookup('gpt-5.4')!
    const { context: _c, max_output: _m, ...price } = models['gpt-5.4']!
    expect(gpt).toMatchObject({ key: 'gpt-5.4', ...price })
    expect(gpt.contextTokens).toBe(models['gpt-5.4']!.context!)
    expect(pricing.lookup('no-such-model-anywhere')).toBeUndefined()
  })

  test("prices.json keeps its prices; the catalogue adds the model's limits", () => {
    const p = pricing.lookup('gpt-4o')!
    expect(p).toMatchObject((table as Record<string, object>)['gpt-4o']!)
    expect(p.key).toBe('gpt-4o')
    expect(p.maxOutputTokens).toBe(16_384)
    expect(p.contextTokens).toBe(128_000)
    // A wildcard of prices.json: the limits are the model's, found by its own name.
    const s = pricing.lookup('claude-3-7-sonnet-20250219')!
    expect(s.key).toBe('claude-3-7-sonnet*')
    expect(s.maxOutputTokens).toBe(64_000)
  })

  test('a MODEL_PRICES override of a catalogue model keeps the limits', () => {
    const o = createPricing({ 'gpt-4o': { input: 1, output: 2 }, 'claude-*': { input: 9 } })
    expect(o.lookup('gpt-4o')).toMatchObject({ input: 1, output: 2, maxOutputTokens: 16_384 })
    expect(o.lookup('gpt-4o')!.cached_input).toBeUndefined()
    const c = o.lookup('claude-opus-4-1-20250805')!
    // prices.json's claude-opus-4-1* is more specific than the override's claude-*.
    expect(c.key).toBe('claude-opus-4-1*')
    expect(c.maxOutputTokens).toBe(32_000)
    const fable = o.lookup('claude-fable-5')!
    expect(fable).toMatchObject({ key: 'claude-*', input: 9 })
    expect(fable.contextTokens).toBe(models['claude-fable-5']!.context!)
  })

  test('a price without limits stays as the table has it', () => {
    const p = pricing.lookup('dall-e-3')!
    expect(p.maxOutputTokens).toBeUndefined()
    expect(p.contextTokens).toBeUndefined()
  })

  test('repeated lookups answer the same object; many names do not grow without bound', () => {
    expect(pricing.lookup('gpt-4o')).toBe(pricing.lookup('gpt-4o'))
    for (let i = 0; i < 10_000; i++) pricing.lookup(`random-${i}`)
    expect(pricing.lookup('gpt-4o')?.maxOutputTokens).toBe(16_384)
  })

  test('models() lists the curated table only', () => {
    const names = pricing.models()
    expect(names).toContain('gpt-4o-mini')
    expect(names).not.toContain('gpt-5.4')
  })
})

describe('scripts/catalogue.ts', () => {
  test('matchers become names and prefix patterns; others are left out', () => {
    expect(keysOf({ equals: 'a' })).toEqual(['a'])
    expect(keysOf({ or: [{ starts_with: 'b-' }, { equals: 'c' }] })).toEqual(['b-*', 'c'])
    expect(keysOf({ regex: '^claude-x-5-\\d{8}$' })).toEqual(['claude-x-5-*'])
    expect(keysOf({ regex: '^gpt-5\\.6-sol-\\d{4}-\\d{2}-\\d{2}$' })).toEqual(['gpt-5.6-sol-*'])
    expect(keysOf({ regex: '^(a|b)$' })).toEqual([])
    expect(keysOf({ contains: 'moderation' })).toEqual([])
    expect(keysOf({ and: [{ equals: 'a' }] })).toEqual([])
  })

  test('dated prices: the one in force on the date', () => {
    const prices = [
      { prices: { input_mtok: 10 } },
      {
        constraint: { type: 'start_date' as const, start_date: '2025-06-10' },
        prices: { input_mtok: 2 },
      },
    ]
    expect(priceOn(prices, '2025-06-09')).toEqual({ input_mtok: 10 })
    expect(priceOn(prices, '2025-06-10')).toEqual({ input_mtok: 2 })
    expect(priceOn({ input_mtok: 1 }, '2000-01-01')).toEqual({ input_mtok: 1 })
  })
})
