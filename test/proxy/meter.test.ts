import { describe, expect, test } from 'bun:test'
import { tailUsage } from '../../src/proxy/meter'

const bytes = (s: string) => new TextEncoder().encode(s)

describe('tailUsage', () => {
  test('the usage object nearest the end, nested objects included', () => {
    const body = '{"a":{"usage":{"x":1}},"usage":{"prompt_tokens":3,"details":{"cached_tokens":1}}}'
    expect(tailUsage(bytes(body))).toEqual({
      usage: { prompt_tokens: 3, details: { cached_tokens: 1 } },
    })
  })

  test('whitespace and newlines around the colon', () => {
    expect(tailUsage(bytes('{"usage" :\n {"total_tokens": 7}\n}'))).toEqual({
      usage: { total_tokens: 7 },
    })
  })

  test('"usage": null does not borrow an object', () => {
    expect(tailUsage(bytes('{"usage":null,"x":{"y":1}}'))).toBeNull()
  })

  test('absent or cut off: null', () => {
    expect(tailUsage(bytes('{"data":[1,2,3]}'))).toBeNull()
    expect(tailUsage(bytes('{"usage":{"prompt_tokens":3'))).toBeNull()
  })

  test('a view into a larger buffer is read within its bounds', () => {
    const all = bytes('xxxx{"usage":{"n":1}}yyyy')
    expect(tailUsage(all.subarray(4, all.length - 4))).toEqual({ usage: { n: 1 } })
  })
})
