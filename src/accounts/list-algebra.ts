// The set algebra behind the list fields: a stored list as allow entries and deny entries, the
// three operations an edit is made of (allow, restrict to, deny), and the one canonical form
// they are stored in, so that equal meanings are stored (and answered) as equal text.
import { ipRange } from './ips'
import { patternCovers, patternsMeet } from './patterns'

export type ListKind = 'ips' | 'models' | 'levels' | 'resources'

/**
 * A list's meaning: `all` (everything) or the `allow` entries, less whatever a `deny` entry
 * matches. Stored (`storedOf`) as `null` (all, no deny), `[]` (nothing), `['*', '-a', …]` (all
 * but a …) or `['a', 'b', '-c']` (a or b, but not c). Rows written before deny entries existed
 * (`null`, `[]`, plain entries) are valid stored lists of the same meaning.
 */
export type Form = { all: boolean; allow: string[]; deny: string[] }

/** Does `outer` hold everything `inner` holds; do `a` and `b` share anything (per kind). */
export type Relations = {
  covers(outer: string, inner: string): boolean
  meets(a: string, b: string): boolean
}

const same = (a: string, b: string) => a === b

/** Relations of a kind's canonical entries (make one per edit: IP ranges are cached in it). */
export function relationsOf(kind: ListKind): Relations {
  if (kind === 'levels') return { covers: same, meets: same }
  if (kind === 'ips') {
    // CIDRs meet only when one holds the other; a range is parsed once per entry and edit.
    const ranges = new Map<string, { lo: bigint; hi: bigint }>()
    const range = (e: string) => {
      let r = ranges.get(e)
      if (!r) ranges.set(e, (r = ipRange(e)))
      return r
    }
    return {
      covers: (o, i) => range(o).lo <= range(i).lo && range(i).hi <= range(o).hi,
      meets: (a, b) => range(a).lo <= range(b).hi && range(b).lo <= range(a).hi,
    }
  }
  return { covers: patternCovers, meets: patternsMeet }
}

export function formOf(list: readonly (string | number)[] | null): Form {
  if (list === null) return { all: true, allow: [], deny: [] }
  const form: Form = { all: false, allow: [], deny: [] }
  for (const raw of list) {
    const e = String(raw)
    if (e === '*') form.all = true
    else if (e.startsWith('-')) form.deny.push(e.slice(1))
    else form.allow.push(e)
  }
  if (form.all) form.allow = []
  return form
}

/**
 * The canonical stored list: an allow entry a deny covers goes, a deny that meets no allowed
 * entry (or that another deny covers) goes, and nothing-allowed keeps no deny entries.
 */
export function storedOf(form: Form, rel: Relations): string[] | null {
  const deny = [...new Set(form.deny)]
  const allow = form.all
    ? []
    : [...new Set(form.allow)].filter((a) => !deny.some((d) => rel.covers(d, a)))
  const kept = deny.filter(
    (d, i) =>
      (form.all || allow.some((a) => rel.meets(a, d))) &&
      !deny.some((o, j) => j !== i && rel.covers(o, d) && !(rel.covers(d, o) && j > i)),
  )
  if (form.all) return kept.length === 0 ? null : ['*', ...kept.map((d) => `-${d}`)]
  if (allow.length === 0) return []
  return [...allow, ...kept.map((d) => `-${d}`)]
}

/**
 * Allow `x` (`+x`): deny entries inside it are lifted; on a restricted list `x` joins the allow
 * entries unless one already holds it (`exact`: unless the same entry is there, as plain
 * additions always did). A deny that overlaps `x` without lying inside it would still apply:
 * refused, naming it.
 */
export function allowEntry(form: Form, x: string, rel: Relations, exact = false): string | null {
  form.deny = form.deny.filter((d) => !rel.covers(x, d))
  const blocker = form.deny.find((d) => rel.meets(d, x))
  if (blocker !== undefined) {
    return `'${x}' overlaps the deny entry '-${blocker}', which would still apply; lift it first ('+${blocker}')`
  }
  const held = exact ? form.allow.includes(x) : form.allow.some((a) => rel.covers(a, x))
  if (!form.all && !held) form.allow.push(x)
  return null
}

/** Add `x` (a plain entry): on an unrestricted list it starts a new allow-list. */
export function restrictTo(form: Form, x: string, rel: Relations): string | null {
  if (form.all) Object.assign(form, { all: false, allow: [], deny: [] })
  return allowEntry(form, x, rel, true)
}

/**
 * Deny `x`: allow entries inside it are removed, and when something still allowed meets it, it
 * becomes a deny entry (nothing happens when x was not allowed anyway).
 */
export function denyEntry(form: Form, x: string, rel: Relations): void {
  form.allow = form.allow.filter((a) => !rel.covers(x, a))
  if (form.all || form.allow.some((a) => rel.meets(a, x))) form.deny.push(x)
}
