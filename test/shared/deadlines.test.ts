import { describe, expect, test } from 'bun:test'
import { DeadlineQueue, deadlines } from '../../src/shared/deadlines'

const target = (log: string[], name: string) => ({ abort: () => log.push(name) })
const abort = (t: { abort(): void }) => t.abort()

describe('DeadlineQueue', () => {
  test('aborts each target once its time has passed, oldest first', async () => {
    const q = new DeadlineQueue(30, abort)
    const log: string[] = []
    const started = performance.now()
    const a = q.add(target(log, 'a'))
    await Bun.sleep(10)
    const b = q.add(target(log, 'b'))
    expect(log).toEqual([])
    await Bun.sleep(60)
    expect(log).toEqual(['a', 'b'])
    expect(a.fired && b.fired).toBe(true)
    expect(a.target).toBeNull()
    expect(a.atMs - started).toBeGreaterThanOrEqual(29)
    expect(q.size).toBe(0)
  })

  test('a cancelled deadline never fires; the ones behind it still do', async () => {
    const q = new DeadlineQueue(20, abort)
    const log: string[] = []
    const a = q.add(target(log, 'a'))
    q.add(target(log, 'b'))
    q.cancel(a)
    q.cancel(a)
    expect(q.size).toBe(1)
    await Bun.sleep(50)
    expect(log).toEqual(['b'])
    expect(a.fired).toBe(false)
  })

  test('not before its time: a later entry waits for its own deadline', async () => {
    const q = new DeadlineQueue(40, abort)
    const log: string[] = []
    q.add(target(log, 'a'))
    await Bun.sleep(25)
    q.add(target(log, 'b'))
    await Bun.sleep(30)
    expect(log).toEqual(['a'])
    await Bun.sleep(30)
    expect(log).toEqual(['a', 'b'])
  })

  test('memory follows the live entries, not the cancelled ones', () => {
    const q = new DeadlineQueue(600_000, abort)
    const log: string[] = []
    const keep = Array.from({ length: 10 }, (_, i) => q.add(target(log, `k${i}`)))
    for (let i = 0; i < 100_000; i++) q.cancel(q.add(target(log, 'x')))
    expect(q.size).toBe(10)
    const held = (q as unknown as { entries: unknown[] }).entries.length
    expect(held).toBeLessThan(2_000)
    for (const d of keep) q.cancel(d)
    expect(q.size).toBe(0)
    expect(log).toEqual([])
  })

  test('runs its own action on due targets', async () => {
    const seen: number[] = []
    const q = new DeadlineQueue<number>(10, (n) => seen.push(n * 10))
    q.add(1)
    q.cancel(q.add(2))
    q.add(3)
    await Bun.sleep(40)
    expect(seen).toEqual([10, 30])
  })

  test('one shared queue per length', () => {
    expect(deadlines(1234)).toBe(deadlines(1234))
    expect(deadlines(1234)).not.toBe(deadlines(1235))
  })
})
