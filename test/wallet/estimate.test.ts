// The hold of one call, from its request alone: prompt estimate, most output, cache writes.
import { describe, expect, test } from 'bun:test'
import { compilePrice } from '../../src/billing/pricing'
import { holdNano, outputBound, promptEstimate } from '../../src/wallet/estimate'

const price = compilePrice({ input: 1, output: 2 }, 'm')
const base = { price, json: null, text: null, images: 0, rates: 1, defaultOutputTokens: 100 }

describe('hold estimate', () => {
  test('four ASCII characters a token, one token for any other character', () => {
    expect(promptEstimate(null)).toBe(0)
    expect(promptEstimate('abcd')).toBe(1)
    expect(promptEstimate('abcde')).toBe(2)
    expect(promptEstimate('日本語')).toBe(3)
    expect(promptEstimate('ab日本')).toBe(3)
  })

  test('most output: the request, capped by the model; else the model; else the default', () => {
    const capped = { ...price, maxOutputTokens: 50 }
    expect(outputBound({ max_tokens: 10 }, price, 100)).toBe(10)
    expect(outputBound({ max_completion_tokens: 500 }, capped, 100)).toBe(50)
    expect(outputBound({}, capped, 100)).toBe(50)
    expect(outputBound(null, price, 100)).toBe(100)
  })

  test('price × tokens × Rates; the context window caps the prompt part', () => {
    const text = 'x'.repeat(400) // 100 prompt tokens
    // 100 × 1 USD/M + 100 × 2 USD/M = 300 µUSD = 300,000 nano
    expect(holdNano({ ...base, text })).toBe(300_000)
    expect(holdNano({ ...base, text, rates: 2 })).toBe(600_000)
    expect(holdNano({ ...base, text, price: { ...price, contextTokens: 10 } })).toBe(210_000)
  })

  test('a body asking for caching holds its prompt at the 1-hour cache-write price (2 × input)', () => {
    const text = '{"cache_control":{"type":"ephemeral"}' + 'x'.repeat(362) + '}'
    expect(promptEstimate(text)).toBe(100)
    expect(holdNano({ ...base, text })).toBe(100 * 2000 + 100 * 2000)
  })
})
