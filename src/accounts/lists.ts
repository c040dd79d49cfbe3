// The list-field language of AllowIPs, AllowModels, AllowLevels and Resources: edits, entry
// validation, the text answers show, matchers compiled once per list, and ancestor narrowing.
import { canonicalIp, compileIpList, parseIpEntry } from './ips'
import {
  allowEntry,
  denyEntry,
  type Form,
  formOf,
  type ListKind,
  type Relations,
  relationsOf,
  restrictTo,
  storedOf,
} from './list-algebra'
import { wildcardSource } from './patterns'

export { compileIpList } from './ips'
export type { ListKind } from './list-algebra'
export { compileWildcard, wildcardMatch } from './patterns'

/**
 * A stored list (canonical entries): `null` = unrestricted (`*`), `[]` = blocks all (`-*`),
 * `['*', '-x', …]` = all but x …, `['a', 'b', '-c']` = a or b but not c (list-algebra.ts).
 * Levels are stored as numbers beside the `*` and `-n` strings (`stored`/`levelsStored`).
 */
export type List = readonly string[] | null
export type EditResult = { ok: true; value: string[] | null } | { ok: false; message: string }
/** What each kind's matcher is asked about: a client IP, a model, a key level, a request path. */
export type Subject = { ips: string; models: string; levels: number; resources: string }

export const MAX_LIST_ENTRIES = 256
const MAX_EDIT_CHARS = 16_384
const FIELD: Record<ListKind, string> = {
  ips: 'AllowIPs',
  models: 'AllowModels',
  levels: 'AllowLevels',
  resources: 'Resources',
}
/**
 * Models: letters, digits and `. _ - : / @` (`ft:gpt-4o:org::id`, `vendor/model@2024`) plus `*`;
 * not starting with `-`, which marks a removal. Matching is case-sensitive, like providers' ids.
 * Resources: absolute API paths of `A-Z a-z 0-9 . _ ~ - /` plus `*`, without empty, `.` or `..`
 * segments or a query; `/v1/*` covers every path under `/v1/`.
 */
const MODEL_RE = /^[A-Za-z0-9._:/@*][A-Za-z0-9._:/@*-]{0,127}$/
const PATH_RE = /^(\/[A-Za-z0-9._~*-]+)+\/?$/

/**
 * Apply one edit, space- or comma-separated. Every entry is validated before anything changes.
 * - A whole list sets it exactly (the forms answers show, so writing one back changes nothing):
 *   `*` unrestricted, `-*` blocks all, `* -a -b` all but a and b, `a b -c` a or b but not c
 *   (each deny entry must narrow an entry beside it: `a -b` is refused).
 * - `a b` (no deny entry) adds a and b; on an unrestricted list it restricts it to them.
 * - `+a`: allows a: lifts deny entries inside it, adds it to a restricted list, leaves an
 *   unrestricted one unrestricted. A deny around a must be lifted itself (`+gpt-*`).
 * - `-a`: a is no longer allowed: allow entries inside it go, and when something still allowed
 *   meets it (an unrestricted list, a wildcard or CIDR around it) it stays as a deny entry.
 * A leading sign carries to unmarked entries (`-a b` removes a and b); removing the last
 * entry leaves `[]` (blocks all), never unrestricted.
 */
export function applyListEdit(current: List, edit: string, kind: ListKind): EditResult {
  const fail = (message: string): EditResult => ({
    ok: false,
    message: `${FIELD[kind]}: ${message}`,
  })
  if (edit.length > MAX_EDIT_CHARS) return fail(`edit longer than ${MAX_EDIT_CHARS} characters`)
  const tokens = edit.split(/[\s,]+/).filter((t) => t !== '')
  if (tokens.length === 0) return fail('empty edit; send entries, "*" or "-*"')
  if (tokens.length === 1 && tokens[0] === '*') return { ok: true, value: null }
  if (tokens.length === 1 && tokens[0] === '-*') return { ok: true, value: [] }
  const reset = tokens[0] === '*'
  const lead = tokens[0][0] === '-' || tokens[0][0] === '+' ? tokens[0][0] : ''
  const steps: Step[] = []
  for (const token of reset ? tokens.slice(1) : tokens) {
    const sign = token[0] === '-' || token[0] === '+' ? token[0] : ''
    const raw = sign ? token.slice(1) : token
    if (raw === '*') {
      return fail(`'${token}' must be sent alone, or '*' first before deny entries ("* -x")`)
    }
    if (reset && sign !== '-') {
      return fail(`'${token}': after '*' only deny entries (-x) may follow`)
    }
    const checked = checkEntry(raw, kind)
    if (!checked.ok) return fail(`'${raw}' ${checked.why}`)
    const op = (sign || lead) === '-' ? '-' : (sign || lead) === '+' ? '+' : '='
    steps.push({ op, entry: checked.value, token })
  }
  const rel = relationsOf(kind)
  const whole = reset || (lead === '' && steps.some((s) => s.op === '-'))
  const form = whole ? wholeForm(reset, steps, rel) : incremental(formOf(current), steps, rel)
  if (typeof form === 'string') return fail(form)
  const value = storedOf(form, rel)
  if (value !== null && value.length > MAX_LIST_ENTRIES) {
    return fail(`more than ${MAX_LIST_ENTRIES} entries`)
  }
  return { ok: true, value }
}

type Step = { op: '+' | '-' | '='; entry: string; token: string }

/** A whole list as written; each deny entry must meet something the list allows. */
function wholeForm(all: boolean, steps: Step[], rel: Relations): Form | string {
  const allow = steps.filter((s) => s.op !== '-').map((s) => s.entry)
  const deny = steps.filter((s) => s.op === '-')
  for (const d of deny) {
    if (!all && !allow.some((a) => rel.meets(a, d.entry))) {
      return `'${d.token}' denies nothing the list allows`
    }
  }
  return { all, allow, deny: deny.map((d) => d.entry) }
}

/** The edits applied one after another to the current list, or why one cannot be. */
function incremental(form: Form, steps: Step[], rel: Relations): Form | string {
  for (const { op, entry } of steps) {
    if (op === '-') denyEntry(form, entry, rel)
    else {
      const why = op === '+' ? allowEntry(form, entry, rel) : restrictTo(form, entry, rel)
      if (why !== null) return why
    }
  }
  return form
}

/** The list as the text a client sends: `*`, `-*`, `gpt-4* claude-3*`, `* -gpt-3.5-turbo`. */
export function renderList(list: readonly (string | number)[] | null): string {
  if (list === null) return '*'
  if (list.length === 0) return '-*'
  return list.join(' ')
}

/** The stored list a text names exactly (what `renderList` wrote), or why it is not valid. */
export function parseList(text: string, kind: ListKind): EditResult {
  return applyListEdit(null, text, kind)
}

/** AllowLevels rows hold allowed levels as numbers (as before deny entries), `*`/`-n` as text. */
export function levelsStored(list: List): Array<number | string> | null {
  return list === null ? null : list.map((e) => (/^\d+$/.test(e) ? Number(e) : e))
}

/** One entry's canonical text, or why it is not valid for the kind. */
export function checkEntry(
  raw: string,
  kind: ListKind,
): { ok: true; value: string } | { ok: false; why: string } {
  switch (kind) {
    case 'ips': {
      const r = parseIpEntry(raw)
      return r.ok ? { ok: true, value: canonicalIp(r.entry) } : r
    }
    case 'models':
      return MODEL_RE.test(raw)
        ? { ok: true, value: raw.replace(/\*+/g, '*') }
        : { ok: false, why: 'is not a model name (letters, digits, . _ - : / @ and *)' }
    case 'levels':
      return /^\d{1,2}$/.test(raw) && Number(raw) <= 10
        ? { ok: true, value: String(Number(raw)) }
        : { ok: false, why: 'is not a level (an integer from 0 to 10)' }
    case 'resources':
      return PATH_RE.test(raw) && raw.length <= 256 && !/\/\.\.?(\/|$)/.test(raw)
        ? { ok: true, value: raw.replace(/\*+/g, '*') }
        : { ok: false, why: 'is not an API path like /v1/chat/completions or /v1/*' }
  }
}

/** Matcher for model names: exact names through a Set, wildcards through one RegExp. */
export function compileModelList(list: List): (model: string) => boolean {
  return compileNameList(list)
}

/** Matcher for request paths (`/v1/*` style entries). */
export function compilePathList(list: List): (path: string) => boolean {
  return compileNameList(list)
}

/** Is the key level allowed by a stored AllowLevels list (numbers or their text)? */
export function levelAllowed(list: readonly (string | number)[] | null, level: number): boolean {
  return compileLevelList(list === null ? null : list.map(String))(level)
}

/**
 * The lists that restrict an account, given the lists from the root (or the global config) down
 * to the account itself: unrestricted ones drop out, and one that blocks all blocks everything.
 * The effective rule is that every returned list must match (so a deny anywhere up the tree
 * wins), never a symbolic intersection.
 */
export function effective(lists: readonly List[]): (readonly string[])[] {
  const restricting = lists.filter(
    (l): l is readonly string[] => l !== null && !(l.length === 1 && l[0] === '*'),
  )
  return restricting.some((l) => l.length === 0) ? [[]] : restricting
}

/** One matcher for an account narrowed by every ancestor: the conjunction of their matchers. */
export function compileEffective<K extends ListKind>(
  lists: readonly List[],
  kind: K,
): (subject: Subject[K]) => boolean {
  const compile = COMPILERS[kind] as (l: List) => (s: Subject[K]) => boolean
  const matchers = effective(lists).map(compile)
  if (matchers.length === 0) return () => true
  if (matchers.length === 1) return matchers[0]
  if (matchers.length === 2) {
    const [a, b] = matchers as [(s: Subject[K]) => boolean, (s: Subject[K]) => boolean]
    return (subject) => a(subject) && b(subject)
  }
  return (subject) => {
    for (const m of matchers) if (!m(subject)) return false
    return true
  }
}

const COMPILERS: { [K in ListKind]: (list: List) => (s: Subject[K]) => boolean } = {
  ips: compileIpList,
  models: compileModelList,
  levels: (list) => compileLevelList(list),
  resources: compilePathList,
}

/** Levels 0–10 as a table built once; a deny entry wins over `*` and over an allow entry. */
function compileLevelList(list: List): (level: number) => boolean {
  if (list === null) return () => true
  const all = list.includes('*')
  const denied = new Set(list.filter((e) => e.startsWith('-')).map((e) => e.slice(1)))
  const allowed = new Set(list.filter((e) => e !== '*' && !e.startsWith('-')))
  const table = Array.from(
    { length: 11 },
    (_, l) => (all || allowed.has(String(l))) && !denied.has(String(l)),
  )
  return (level) => table[level] === true
}

function compileNameList(list: List): (name: string) => boolean {
  if (list === null) return () => true
  const all = list.includes('*')
  const allow = all ? () => true : compileNames(list.filter((e) => !e.startsWith('-')))
  const denied = list.filter((e) => e.startsWith('-')).map((e) => e.slice(1))
  if (denied.length === 0) return allow
  const deny = compileNames(denied)
  return (name) => allow(name) && !deny(name)
}

/** Does any entry match: exact names through a Set, wildcards through one RegExp. */
function compileNames(entries: readonly string[]): (name: string) => boolean {
  const exact = new Set(entries.filter((e) => !e.includes('*')))
  const wild = entries.filter((e) => e.includes('*')).map((e) => wildcardSource(e))
  const re = wild.length > 0 ? new RegExp(`^(?:${wild.join('|')})$`, 's') : null
  if (re === null) return (name) => exact.has(name)
  return (name) => exact.has(name) || re.test(name)
}
