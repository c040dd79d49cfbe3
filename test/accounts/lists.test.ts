// List-field language: edits, entry validation, IP/CIDR and wildcard matching, ancestor narrowing.
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import {
  applyListEdit,
  compileEffective,
  compileIpList,
  compileModelList,
  compilePathList,
  compileWildcard,
  effective,
  type EditResult,
  levelAllowed,
  type List,
  type ListKind,
  MAX_LIST_ENTRIES,
  wildcardMatch,
} from '../../src/accounts/lists'

function value(r: EditResult): string[] | null {
  if (!r.ok) throw new Error(`edit refused: ${r.message}`)
  return r.value
}

function refusal(r: EditResult): string {
  if (r.ok) throw new Error(`edit accepted: ${JSON.stringify(r.value)}`)
  return r.message
}

const GOOD: Record<ListKind, string> = {
  ips: '1.2.3.4',
  models: 'gpt-4o',
  levels: '1',
  resources: '/v1/chat/completions',
}

describe('applyListEdit', () => {
  test('adds, removes, resets and blocks', () => {
    const a = value(applyListEdit(null, 'gpt-4o claude-*', 'models'))
    expect(a).toEqual(['gpt-4o', 'claude-*'])
    expect(value(applyListEdit(a, 'o1,gpt-4o , o3', 'models'))).toEqual([
      'gpt-4o',
      'claude-*',
      'o1',
      'o3',
    ])
    expect(value(applyListEdit(a, '-gpt-4o other', 'models'))).toEqual(['claude-*'])
    expect(value(applyListEdit(a, '-gpt-4o -claude-*', 'models'))).toEqual([])
    expect(value(applyListEdit(a, '*', 'models'))).toBeNull()
    expect(value(applyListEdit(a, ' -* ', 'models'))).toEqual([])
    expect(value(applyListEdit([], 'gpt-4o', 'models'))).toEqual(['gpt-4o'])
  })

  test('duplicates collapse, in the edit and against the list', () => {
    expect(value(applyListEdit(['3'], '3 4 4 04', 'levels'))).toEqual(['3', '4'])
    expect(value(applyListEdit(['10.0.0.0/8'], '10.0.0.0/8', 'ips'))).toEqual(['10.0.0.0/8'])
    expect(value(applyListEdit(null, 'FE80:0:0::1 fe80::1/128', 'ips'))).toEqual(['fe80::1'])
  })

  test('a deny that narrows nothing, misplaced * and empty edits are refused', () => {
    // Removing from an unrestricted list is a deny entry now (deny-lists.test.ts).
    expect(value(applyListEdit(null, '-1.2.3.4', 'ips'))).toEqual(['*', '-1.2.3.4'])
    expect(refusal(applyListEdit([], 'a -b', 'models'))).toContain("'-b'")
    expect(refusal(applyListEdit([], ' , ', 'models'))).toContain('empty')
    expect(refusal(applyListEdit([], 'gpt-4o *', 'models'))).toContain("'*' must be sent alone")
  })

  test('a bad entry is refused with a message naming it', () => {
    const cases: [string, ListKind, string][] = [
      ['10.0.0.0/33', 'ips', 'from 0 to 32'],
      ['300.1.1.1', 'ips', 'not an IPv4 or IPv6 address'],
      ['fe80::/129', 'ips', 'from 0 to 128'],
      ['1.2.3.4/-1', 'ips', 'prefix'],
      ['1.2.3', 'ips', 'not an IPv4'],
      ['01.2.3.4', 'ips', 'not an IPv4'],
      ['1::2::3', 'ips', 'not an IPv4'],
      ['fe80::1%eth0', 'ips', 'zone'],
      ['10.1.2.3/8', 'ips', '10.0.0.0/8'],
      ['11', 'levels', '0 to 10'],
      ['2.5', 'levels', '0 to 10'],
      ['gpt$', 'models', 'model name'],
      ['v1/chat', 'resources', 'API path'],
      ['/v1/../admin', 'resources', 'API path'],
      ['/v1//x', 'resources', 'API path'],
      ['/v1/x?y=1', 'resources', 'API path'],
    ]
    for (const [entry, kind, why] of cases) {
      const message = refusal(applyListEdit(null, `${GOOD[kind]} ${entry}`, kind))
      expect(message, entry).toContain(`'${entry}'`)
      expect(message, entry).toContain(why)
    }
    expect(refusal(applyListEdit(null, '10.0.0.0/33', 'ips'))).toStartWith('AllowIPs: ')
  })

  test('IPv6 forms are accepted and stored canonically', () => {
    const v = value(
      applyListEdit(null, '::, ::1 2001:DB8:0:0:0:0:0:0/32 ::ffff:1.2.3.4 1:0:0:2:0:0:0:3', 'ips'),
    )
    expect(v).toEqual(['::', '::1', '2001:db8::/32', '::ffff:1.2.3.4', '1:0:0:2::3'])
    expect(value(applyListEdit(null, '0.0.0.0/0 ::/0 1.2.3.4/32', 'ips'))).toEqual([
      '0.0.0.0/0',
      '::/0',
      '1.2.3.4',
    ])
  })

  test('removal matches the canonical form', () => {
    expect(value(applyListEdit(['2001:db8::/32', '1.2.3.4'], '-2001:0DB8::0/32', 'ips'))).toEqual([
      '1.2.3.4',
    ])
  })

  test('lists are bounded', () => {
    const many = Array.from({ length: MAX_LIST_ENTRIES + 1 }, (_, i) => `m${i}`).join(' ')
    expect(refusal(applyListEdit(null, many, 'models'))).toContain(`${MAX_LIST_ENTRIES}`)
  })
})

describe('IP matching', () => {
  test('IPv4 and IPv6 CIDRs and single addresses', () => {
    const m = compileIpList(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1'])
    expect(m('10.255.0.1')).toBe(true)
    expect(m('11.0.0.1')).toBe(false)
    expect(m('192.168.1.7')).toBe(true)
    expect(m('192.168.1.8')).toBe(false)
    expect(m('2001:db8:ffff::1')).toBe(true)
    expect(m('2001:db9::1')).toBe(false)
    expect(m('::1')).toBe(true)
    expect(m('::2')).toBe(false)
  })

  test('IPv4-mapped IPv6 clients match IPv4 entries', () => {
    const m = compileIpList(['127.0.0.1', '10.0.0.0/8'])
    expect(m('::ffff:127.0.0.1')).toBe(true)
    expect(m('::ffff:10.9.8.7')).toBe(true)
    expect(m('::ffff:a09:807')).toBe(true)
    expect(m('::ffff:11.0.0.1')).toBe(false)
    expect(m('::127.0.0.1')).toBe(false)
  })

  test('a mapped-IPv6 entry matches plain IPv4 clients', () => {
    expect(compileIpList(['::ffff:10.0.0.0/104'])('10.1.2.3')).toBe(true)
    expect(compileIpList(['::ffff:10.0.0.0/104'])('11.1.2.3')).toBe(false)
  })

  test('unrestricted, blocked, and garbage client addresses', () => {
    expect(compileIpList(null)('anything')).toBe(true)
    expect(compileIpList([])('10.0.0.1')).toBe(false)
    const m = compileIpList(['0.0.0.0/0', '::/0'])
    expect(m('not-an-ip')).toBe(false)
    expect(m('')).toBe(false)
    expect(m('10.0.0.1, 1.2.3.4')).toBe(false)
    expect(m('fe80::1%eth0')).toBe(true)
  })

  test('a corrupt stored entry fails at compile time', () => {
    expect(() => compileIpList(['10.0.0.0/33'])).toThrow('10.0.0.0/33')
  })
})

describe('wildcards', () => {
  test('regex metacharacters in names are literal', () => {
    expect(wildcardMatch('gpt-4.1', 'gpt-4.1')).toBe(true)
    expect(wildcardMatch('gpt-4.1', 'gpt-4x1')).toBe(false)
    expect(compileWildcard('gpt-4.1').test('gpt-4x1')).toBe(false)
    expect(compileWildcard('a+b(c)[d]$^|?\\').test('a+b(c)[d]$^|?\\')).toBe(true)
    expect(compileWildcard('a+b').test('aab')).toBe(false)
    expect(compileModelList(['gpt-4.1*'])('gpt-4.1-mini')).toBe(true)
    expect(compileModelList(['gpt-4.1*'])('gpt-4-1-mini')).toBe(false)
  })

  test('`*` matches any run, empty included, anchored at both ends', () => {
    expect(wildcardMatch('*', '')).toBe(true)
    expect(wildcardMatch('claude-*', 'claude-')).toBe(true)
    expect(wildcardMatch('claude-*', 'xclaude-3')).toBe(false)
    expect(wildcardMatch('*-mini', 'gpt-4o-mini-2024')).toBe(false)
    expect(wildcardMatch('a*a', 'a')).toBe(false)
    expect(wildcardMatch('a*a', 'aa')).toBe(true)
    expect(wildcardMatch('a*b*c', 'abbbc')).toBe(true)
    expect(wildcardMatch('a*bc*c', 'abc')).toBe(false)
    expect(compilePathList(['/v1/*'])('/v1/chat/completions')).toBe(true)
    expect(compilePathList(['/v1/*'])('/v2/x')).toBe(false)
    expect(compilePathList(['/v1/*'])('/v1')).toBe(false)
  })

  test('wildcardMatch agrees with compileWildcard (property)', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '*', '-')
    const str = (max: number) => fc.array(alphabet, { maxLength: max }).map((a) => a.join(''))
    fc.assert(
      fc.property(str(6), str(8), (pattern, name) => {
        expect(wildcardMatch(pattern, name)).toBe(compileWildcard(pattern).test(name))
      }),
      { numRuns: 2000 },
    )
  })

  test('model lists mix exact names and patterns', () => {
    const m = compileModelList(['gpt-4o', 'claude-*-sonnet*'])
    expect(m('gpt-4o')).toBe(true)
    expect(m('gpt-4o-mini')).toBe(false)
    expect(m('claude-3-5-sonnet-20240620')).toBe(true)
    expect(m('claude-3-opus')).toBe(false)
    expect(compileModelList([])('gpt-4o')).toBe(false)
    expect(compileModelList(null)('gpt-4o')).toBe(true)
  })
})

describe('levels', () => {
  test('levelAllowed', () => {
    expect(levelAllowed(null, 7)).toBe(true)
    expect(levelAllowed(['1', '2'], 2)).toBe(true)
    expect(levelAllowed(['1', '2'], 3)).toBe(false)
    expect(levelAllowed([], 1)).toBe(false)
  })
})

describe('effective lists (ancestor narrowing)', () => {
  test('a child can never reach what its parent cannot', () => {
    const parent: List = ['10.0.0.0/8']
    const child: List = ['10.1.0.0/16', '192.168.0.0/16']
    const m = compileEffective([null, parent, child], 'ips')
    expect(m('192.168.1.1')).toBe(false)
    expect(m('10.1.2.3')).toBe(true)
    expect(m('10.2.0.1')).toBe(false)
  })

  test('unrestricted ancestors drop out; a blocking one blocks all', () => {
    expect(effective([null, ['a'], null])).toEqual([['a']])
    expect(effective([['a'], [], ['b']])).toEqual([[]])
    expect(compileEffective([null, null], 'models')('anything')).toBe(true)
    expect(compileEffective([['gpt-*'], []], 'models')('gpt-4o')).toBe(false)
    expect(compileEffective([], 'resources')('/v1/messages')).toBe(true)
  })

  test('each kind narrows: models, paths and levels', () => {
    const models = compileEffective([['gpt-*'], ['gpt-4o*', 'claude-*']], 'models')
    expect(models('gpt-4o-mini')).toBe(true)
    expect(models('claude-3-opus')).toBe(false)
    const paths = compileEffective([['/v1/*'], ['/v1/chat/completions', '/v2/*']], 'resources')
    expect(paths('/v1/chat/completions')).toBe(true)
    expect(paths('/v2/x')).toBe(false)
    const levels = compileEffective(
      [
        ['1', '2', '3'],
        ['3', '4'],
      ],
      'levels',
    )
    expect(levels(3)).toBe(true)
    expect(levels(4)).toBe(false)
  })
})
