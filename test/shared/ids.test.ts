import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { base36x5, newRequestId } from '../../src/shared/ids'

describe('request ids', () => {
  test('base36x5 equals toString(36) padded to five digits over its whole range', () => {
    for (const n of [0, 1, 35, 36, 1295, 1296, 36 ** 4, 36 ** 5 - 1]) {
      expect(base36x5(n)).toBe(n.toString(36).padStart(5, '0'))
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 36 ** 5 - 1 }), (n) => {
        expect(base36x5(n)).toBe(n.toString(36).padStart(5, '0'))
      }),
      { numRuns: 5000 },
    )
  })

  test('unique and sorted by time, also within one millisecond', () => {
    const t = Date.UTC(2026, 10, 22)
    const ids = [
      ...Array.from({ length: 500 }, () => newRequestId(t)),
      ...Array.from({ length: 500 }, () => newRequestId(t + 1)),
    ]
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-z]+$/)
    // Sequence numbers wrap at 2^24; within a run of 1,000 the order holds unless it wrapped.
    const sorted = [...ids].sort()
    const wrapped = ids.some((id, i) => i > 0 && id.slice(-5) < ids[i - 1]!.slice(-5))
    if (!wrapped) expect(sorted).toEqual(ids)
  })
})
