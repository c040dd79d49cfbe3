// The scope table's CLOCK eviction: bounded, a used scope gets a second chance, an unused one goes.
import { expect, test } from 'bun:test'
import type { Scope } from '../../src/limits/scope'
import { ScopeTable } from '../../src/limits/table'

const scope = (key: string): Scope => ({
  key,
  limits: { rpm: 1, rph: 0, rpd: 0, tpm: 0, tph: 0, tpd: 0 },
})

test('never more than max; the oldest unused goes first, a used one is spared once', () => {
  const t = new ScopeTable(3)
  for (const k of ['a', 'b', 'c']) t.set(k, scope(k))
  t.get('a')
  t.set('d', scope('d'))
  expect(t.size).toBe(3)
  expect([...t.values()].map((s) => s.key)).toEqual(['c', 'a', 'd'])
  expect(t.peek('b')).toBeUndefined()
  // 'a' lost its mark when spared: unused since, it is next after 'c'.
  t.set('e', scope('e'))
  t.set('f', scope('f'))
  expect(t.peek('a')).toBeUndefined()
  expect(t.peek('c')).toBeUndefined()
  expect(t.size).toBe(3)
})

test('when every scope is in use, one full pass clears the marks and the oldest goes', () => {
  const t = new ScopeTable(2)
  t.set('a', scope('a'))
  t.set('b', scope('b'))
  t.get('a')
  t.get('b')
  t.set('c', scope('c'))
  expect([...t.values()].map((s) => s.key)).toEqual(['b', 'c'])
  // Replacing a key never evicts.
  t.set('c', scope('c'))
  expect(t.size).toBe(2)
})
