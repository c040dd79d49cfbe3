// Deny entries in the list fields: the edit algebra ("-x" on an unrestricted list, inside a
// wildcard or a CIDR; "+x" lifting it; "* -a -b" setting it), the text answers show, matching
// and narrowing down the tree, and properties of the algebra against a reference meaning.
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import {
  applyListEdit,
  compileEffective,
  compileIpList,
  compileModelList,
  compilePathList,
  type EditResult,
  levelAllowed,
  levelsStored,
  type List,
  type ListKind,
  parseList,
  renderList,
} from '../../src/accounts/lists'
import { patternCovers, patternsMeet, wildcardMatch } from '../../src/accounts/patterns'

function value(r: EditResult): string[] | null {
  if (!r.ok) throw new Error(`edit refused: ${r.message}`)
  return r.value
}

function refusal(r: EditResult): string {
  if (r.ok) throw new Error(`edit accepted: ${JSON.stringify(r.value)}`)
  return r.message
}

/** Apply edits one after another from `start`, each of which must be accepted. */
function edits(kind: ListKind, start: List, ...steps: string[]): string[] | null {
  let list = start
  for (const s of steps) list = value(applyListEdit(list, s, kind))
  return list === null ? null : [...list]
}

describe('models: deny entries', () => {
  test('the seed: "*" then "-gpt-3.5-turbo" is everything except gpt-3.5-turbo', () => {
    const list = edits('models', null, '*', '-gpt-3.5-turbo')
    expect(list).toEqual(['*', '-gpt-3.5-turbo'])
    expect(renderList(list)).toBe('* -gpt-3.5-turbo')
    const m = compileModelList(list)
    expect(m('gpt-3.5-turbo')).toBe(false)
    expect(m('gpt-3.5-turbo-0125')).toBe(true)
    expect(m('gpt-4o')).toBe(true)
    expect(m('claude-3-haiku')).toBe(true)
  })

  test('"+x" lifts the deny: back to unrestricted', () => {
    expect(edits('models', null, '-gpt-3.5-turbo', '+gpt-3.5-turbo')).toBeNull()
    expect(edits('models', ['*', '-a', '-b'], '+a')).toEqual(['*', '-b'])
    expect(edits('models', null, '+gpt-4o'), '+ on an unrestricted list changes nothing').toBeNull()
  })

  test('a wider deny replaces the narrower ones; a narrower one inside a deny adds nothing', () => {
    expect(edits('models', null, '-gpt-3.5-turbo', '-gpt-3.5*')).toEqual(['*', '-gpt-3.5*'])
    expect(edits('models', null, '-gpt-3.5*', '-gpt-3.5-turbo')).toEqual(['*', '-gpt-3.5*'])
    expect(edits('models', null, '-a', '-a', '-b')).toEqual(['*', '-a', '-b'])
  })

  test('"+x" inside a wider deny is refused, naming the deny to lift', () => {
    const message = refusal(applyListEdit(['*', '-gpt-3.5*'], '+gpt-3.5-turbo', 'models'))
    expect(message).toStartWith('AllowModels: ')
    expect(message).toContain("'-gpt-3.5*'")
    expect(message).toContain("'+gpt-3.5*'")
  })

  test('inside an allowed wildcard a deny stays; outside every allow entry it is a no-op', () => {
    expect(edits('models', ['gpt-*'], '-gpt-3.5-turbo')).toEqual(['gpt-*', '-gpt-3.5-turbo'])
    expect(edits('models', ['claude-*'], '-gpt-3.5-turbo')).toEqual(['claude-*'])
    expect(edits('models', ['gpt-4o', 'gpt-4o-mini', 'o1'], '-gpt-4o*')).toEqual(['o1'])
    expect(edits('models', ['gpt-*', '-gpt-3.5-turbo'], '-gpt-*')).toEqual([])
    expect(edits('models', ['gpt-*', '-gpt-3.5-turbo'], '+gpt-3.5-turbo')).toEqual(['gpt-*'])
  })

  test('bare entries on an unrestricted list (with denies too) restrict it to them, as before', () => {
    expect(edits('models', null, 'gpt-4o')).toEqual(['gpt-4o'])
    expect(edits('models', ['*', '-a'], 'gpt-4o b')).toEqual(['gpt-4o', 'b'])
  })

  test('full forms set the list exactly, whatever it was', () => {
    for (const start of [null, [], ['claude-*'], ['*', '-x']] as List[]) {
      expect(edits('models', start, '* -a -b')).toEqual(['*', '-a', '-b'])
      expect(edits('models', start, '-*')).toEqual([])
      expect(edits('models', start, 'gpt-* o1 -gpt-3.5-turbo')).toEqual([
        'gpt-*',
        'o1',
        '-gpt-3.5-turbo',
      ])
    }
  })

  test('misplaced signs and denies that narrow nothing are refused, naming the entry', () => {
    expect(refusal(applyListEdit(null, '* gpt-4o', 'models'))).toContain("'gpt-4o'")
    expect(refusal(applyListEdit(null, '* +gpt-4o', 'models'))).toContain('deny entries')
    expect(refusal(applyListEdit(null, 'gpt-4o -*', 'models'))).toContain("'-*' must be sent")
    expect(refusal(applyListEdit(null, '-a *', 'models'))).toContain("'*' must be sent")
    expect(refusal(applyListEdit(null, 'claude-* -gpt-4o', 'models'))).toContain("'-gpt-4o'")
    expect(refusal(applyListEdit(null, '+', 'models'))).toContain("''")
    expect(refusal(applyListEdit(null, '-bad$', 'models'))).toContain("'bad$'")
  })

  test('a leading sign carries: "-a b" removes both, "+a b" allows both; "-a +b" mixes', () => {
    expect(edits('models', ['a', 'b', 'c'], '-a b')).toEqual(['c'])
    expect(edits('models', ['a', 'c'], '-a +b')).toEqual(['c', 'b'])
    expect(edits('models', ['*', '-a', '-b', '-c'], '+a b')).toEqual(['*', '-c'])
    expect(edits('models', ['x'], '+a b')).toEqual(['x', 'a', 'b'])
    expect(edits('models', ['a*'], '+ab'), '+ of what a wildcard holds adds nothing').toEqual([
      'a*',
    ])
  })
})

describe('IPs: a deny of a CIDR inside an allowed range', () => {
  test('allowed 10/8 less 10.1/16; v4 clients seen as mapped v6 are judged the same', () => {
    const list = edits('ips', null, '10.0.0.0/8', '-10.1.0.0/16')
    expect(list).toEqual(['10.0.0.0/8', '-10.1.0.0/16'])
    expect(renderList(list)).toBe('10.0.0.0/8 -10.1.0.0/16')
    const m = compileIpList(list)
    expect(m('10.2.0.1')).toBe(true)
    expect(m('10.1.2.3')).toBe(false)
    expect(m('::ffff:10.1.2.3')).toBe(false)
    expect(m('::ffff:10.2.0.1')).toBe(true)
    expect(m('192.168.0.1')).toBe(false)
  })

  test('unrestricted less a range and an address, v4 and v6', () => {
    const list = edits('ips', null, '-10.0.0.0/8 -2001:DB8::/32', '-192.168.1.7')
    expect(list).toEqual(['*', '-10.0.0.0/8', '-2001:db8::/32', '-192.168.1.7'])
    const m = compileIpList(list)
    expect(m('10.9.9.9')).toBe(false)
    expect(m('2001:db8::1')).toBe(false)
    expect(m('192.168.1.7')).toBe(false)
    expect(m('192.168.1.8')).toBe(true)
    expect(m('2001:db9::1')).toBe(true)
    expect(m('not-an-ip'), 'garbage never passes a list with entries').toBe(false)
  })

  test('ranges: covered denies merge, removal of the allowed range drops its denies', () => {
    expect(edits('ips', null, '-10.1.0.0/16', '-10.0.0.0/8')).toEqual(['*', '-10.0.0.0/8'])
    expect(edits('ips', ['10.0.0.0/8', '-10.1.0.0/16'], '-10.0.0.0/8')).toEqual([])
    expect(edits('ips', ['10.0.0.0/8', '192.168.0.0/16'], '-10.0.0.0/8')).toEqual([
      '192.168.0.0/16',
    ])
    expect(edits('ips', ['10.0.0.0/8'], '-11.0.0.0/8')).toEqual(['10.0.0.0/8'])
    expect(edits('ips', ['::ffff:10.0.0.0/104'], '-10.1.2.3')).toEqual([
      '::ffff:10.0.0.0/104',
      '-10.1.2.3',
    ])
    expect(refusal(applyListEdit(['*', '-10.0.0.0/8'], '+10.1.0.0/16', 'ips'))).toContain(
      "'-10.0.0.0/8'",
    )
    expect(edits('ips', ['*', '-10.1.0.0/16'], '+10.0.0.0/8')).toBeNull()
  })
})

describe('levels and resources', () => {
  test('AllowLevels "-3" on an unrestricted list: every level but 3, stored with numbers', () => {
    const list = edits('levels', null, '-3')
    expect(list).toEqual(['*', '-3'])
    expect(levelsStored(list)).toEqual(['*', '-3'])
    expect(levelsStored(edits('levels', null, '1 2'))).toEqual([1, 2])
    expect(levelAllowed(['*', '-3'], 3)).toBe(false)
    expect(levelAllowed(['*', '-3'], 4)).toBe(true)
    expect(levelAllowed([1, 2], 2)).toBe(true)
    expect(edits('levels', ['1', '2'], '-2')).toEqual(['1'])
    expect(edits('levels', ['*', '-3'], '+3')).toBeNull()
    expect(renderList([1, 2])).toBe('1 2')
  })

  test('Resources less a path pattern', () => {
    const list = edits('resources', null, '-/v1/images/*')
    const m = compilePathList(list)
    expect(m('/v1/images/generations')).toBe(false)
    expect(m('/v1/chat/completions')).toBe(true)
    const inside = edits('resources', ['/v1/*'], '-/v1/embeddings')
    expect(inside).toEqual(['/v1/*', '-/v1/embeddings'])
    expect(compilePathList(inside)('/v1/embeddings')).toBe(false)
    expect(compilePathList(inside)('/v1/messages')).toBe(true)
  })
})

describe('narrowing down the tree: a deny anywhere wins', () => {
  test("a parent's deny blocks a child that allows the model itself", () => {
    const parent = ['*', '-gpt-3.5-turbo']
    for (const child of [null, ['gpt-3.5-turbo', 'gpt-4o'], ['*', '-o1']] as List[]) {
      const m = compileEffective([null, parent, child], 'models')
      expect(m('gpt-3.5-turbo'), JSON.stringify(child)).toBe(false)
      expect(m('gpt-4o'), JSON.stringify(child)).toBe(true)
    }
    const both = compileEffective(
      [
        ['*', '-a'],
        ['*', '-b'],
        ['*', '-c'],
      ],
      'models',
    )
    expect(['a', 'b', 'c', 'd'].map(both)).toEqual([false, false, false, true])
  })

  test('levels and IPs narrow the same way', () => {
    const levels = compileEffective(
      [
        ['*', '-1'],
        ['1', '2'],
      ],
      'levels',
    )
    expect([1, 2, 3].map(levels)).toEqual([false, true, false])
    const ips = compileEffective([['10.0.0.0/8', '-10.1.0.0/16'], null], 'ips')
    expect(ips('10.1.0.1')).toBe(false)
    expect(ips('10.2.0.1')).toBe(true)
  })
})

describe('patterns', () => {
  const alphabet = fc.constantFrom('a', 'b', '*')
  const pattern = fc.array(alphabet, { minLength: 1, maxLength: 5 }).map((a) => a.join(''))
  const names = ['', 'a', 'b', 'aa', 'ab', 'ba', 'bb', 'aab', 'aba', 'abb', 'baa', 'bab', 'abab']

  test('patternsMeet is exact on short names; patternCovers never claims too much', () => {
    fc.assert(
      fc.property(pattern, pattern, (p, q) => {
        const both = names.some((n) => wildcardMatch(p, n) && wildcardMatch(q, n))
        if (both) expect(patternsMeet(p, q), `${p} ${q}`).toBe(true)
        if (patternCovers(p, q)) {
          for (const n of names) if (wildcardMatch(q, n)) expect(wildcardMatch(p, n)).toBe(true)
        }
      }),
      { numRuns: 3000 },
    )
  })

  test('patternsMeet never claims a meeting that no name has', () => {
    // Long enough names: a meeting needs at most head + middles + tail of both patterns.
    const all: string[] = ['']
    for (let len = 1; len <= 7; len++)
      for (let i = 0; i < 1 << len; i++)
        all.push([...Array(len)].map((_, k) => ((i >> k) & 1 ? 'b' : 'a')).join(''))
    const short = fc.array(alphabet, { minLength: 1, maxLength: 3 }).map((a) => a.join(''))
    fc.assert(
      fc.property(short, short, (p, q) => {
        const both = all.some((n) => wildcardMatch(p, n) && wildcardMatch(q, n))
        expect(patternsMeet(p, q), `${p} ${q}`).toBe(both)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('properties of the algebra', () => {
  const ENTRIES = ['a', 'b', 'ab', 'ba', 'a*', '*b', 'a*b', 'b*', '*']
  const NAMES = ['a', 'b', 'ab', 'ba', 'aab', 'abb', 'bab', 'bb', 'x']
  type Op = { sign: '' | '+' | '-'; entry: string }
  const op = fc.record({
    sign: fc.constantFrom('' as const, '+' as const, '-' as const),
    entry: fc.constantFrom(...ENTRIES),
  })
  const edit = (o: Op) => (o.entry === '*' ? (o.sign === '-' ? '-*' : '*') : `${o.sign}${o.entry}`)
  const unrestricted = (l: List) => l === null || l[0] === '*'

  /** The meaning of a list after `ops`, kept as the set of allowed names (refused edits skip). */
  function run(ops: Op[]) {
    let list: List = null
    let allowed = new Set(NAMES)
    for (const o of ops) {
      const r = applyListEdit(list, edit(o), 'models')
      if (!r.ok) continue
      const hit = (n: string) => wildcardMatch(o.entry, n)
      if (o.entry === '*') allowed = new Set(o.sign === '-' ? [] : NAMES)
      else if (o.sign === '-') allowed = new Set([...allowed].filter((n) => !hit(n)))
      else if (o.sign === '' && unrestricted(list)) allowed = new Set(NAMES.filter(hit))
      else allowed = new Set([...allowed, ...NAMES.filter(hit)])
      list = r.value
    }
    return { list, allowed }
  }

  test('the compiled list means what the edits said, edit by edit', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const { list, allowed } = run(ops)
        const m = compileModelList(list)
        for (const n of NAMES) expect(m(n), `${n} in ${JSON.stringify(list)}`).toBe(allowed.has(n))
      }),
      { numRuns: 3000 },
    )
  })

  test('"+x" then "-x" leaves nothing matching x allowed, and nothing else changed', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 10 }),
        fc.constantFrom(...ENTRIES.filter((e) => e !== '*')),
        (ops, x) => {
          const { list } = run(ops)
          const before = compileModelList(list)
          const plus = applyListEdit(list, `+${x}`, 'models')
          const start = plus.ok ? plus.value : list
          const after = compileModelList(value(applyListEdit(start, `-${x}`, 'models')))
          for (const n of NAMES) {
            if (wildcardMatch(x, n)) expect(after(n), `${n} after +${x} -${x}`).toBe(false)
            else expect(after(n), `${n} after +${x} -${x}`).toBe(before(n))
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  test('rendering then parsing is the identity, and writing the text back changes nothing', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const { list } = run(ops)
        const text = renderList(list)
        expect(value(parseList(text, 'models')), text).toEqual(list === null ? null : [...list])
        expect(value(applyListEdit(list, text, 'models')), text).toEqual(
          list === null ? null : [...list],
        )
      }),
      { numRuns: 3000 },
    )
  })

  test('IPs: rendering then parsing is the identity over random CIDR edits', () => {
    const cidr = fc.constantFrom(
      '10.0.0.0/8',
      '10.1.0.0/16',
      '10.1.2.3',
      '192.168.0.0/16',
      '2001:db8::/32',
      '2001:db8::1',
      '::ffff:10.0.0.0/104',
    )
    const ipOp = fc.tuple(fc.constantFrom('', '+', '-'), cidr).map(([s, c]) => `${s}${c}`)
    fc.assert(
      fc.property(
        fc.array(fc.oneof(ipOp, fc.constantFrom('*', '-*')), { maxLength: 10 }),
        (ops) => {
          let list: List = null
          for (const o of ops) {
            const r = applyListEdit(list, o, 'ips')
            if (r.ok) list = r.value
          }
          const text = renderList(list)
          expect(value(parseList(text, 'ips')), text).toEqual(list === null ? null : [...list])
          expect(value(applyListEdit(list, text, 'ips')), text).toEqual(
            list === null ? null : [...list],
          )
        },
      ),
      { numRuns: 1000 },
    )
  })
})
