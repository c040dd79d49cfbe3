// The list-field language of AllowIPs, AllowModels, AllowLevels and Resources: edits, entry
// validation, `*` wildcards, matchers compiled once per list, and ancestor narrowing.
import { canonicalIp, compileIpList, parseIpEntry } from './ips'

export { compileIpList } from './ips'

/** `null` = unrestricted (`*`), `[]` = blocks all (`-*`), else the allowed entries (canonical). */
export type List = readonly string[] | null
export type ListKind = 'ips' | 'models' | 'levels' | 'resources'
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
 * Apply one edit, space- or comma-separated: `a b` adds, `-a b` removes (a `-` on later entries
 * is allowed too), `*` alone resets to unrestricted, `-*` alone blocks all. Every entry is
 * validated before anything changes. Adding to an unrestricted list restricts it to the entries
 * added; removing from it is refused (an allow-list cannot say "all but"); removing the last
 * entry leaves `[]`, which blocks all, never unrestricted.
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
  const removing = tokens[0].startsWith('-')
  const entries = new Set<string>()
  for (const token of tokens) {
    if (token.startsWith('-') && !removing) {
      return fail(`'${token}': additions and removals cannot be mixed in one edit`)
    }
    const raw = token.startsWith('-') ? token.slice(1) : token
    if (raw === '*') return fail(`'${token}' must be sent alone`)
    const checked = checkEntry(raw, kind)
    if (!checked.ok) return fail(`'${raw}' ${checked.why}`)
    entries.add(checked.value)
  }
  if (removing) {
    if (current === null) return fail('the list is unrestricted (*); set the entries to allow')
    return { ok: true, value: current.filter((e) => !entries.has(e)) }
  }
  const value = [...new Set([...(current ?? []), ...entries])]
  if (value.length > MAX_LIST_ENTRIES) return fail(`more than ${MAX_LIST_ENTRIES} entries`)
  return { ok: true, value }
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
        ? { ok: true, value: raw }
        : { ok: false, why: 'is not a model name (letters, digits, . _ - : / @ and *)' }
    case 'levels':
      return /^\d{1,2}$/.test(raw) && Number(raw) <= 10
        ? { ok: true, value: String(Number(raw)) }
        : { ok: false, why: 'is not a level (an integer from 0 to 10)' }
    case 'resources':
      return PATH_RE.test(raw) && raw.length <= 256 && !/\/\.\.?(\/|$)/.test(raw)
        ? { ok: true, value: raw }
        : { ok: false, why: 'is not an API path like /v1/chat/completions or /v1/*' }
  }
}

/** A RegExp for a `*` pattern: `*` matches any run (also empty, also `/`); all else is literal. */
export function compileWildcard(pattern: string): RegExp {
  return new RegExp(`^${wildcardSource(pattern)}$`, 's')
}

function wildcardSource(pattern: string): string {
  return pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
}

/** One-off `*` match without building a RegExp: prefix, suffix, then the middles in order. */
export function wildcardMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('*')
  if (parts.length === 1) return pattern === name
  const first = parts[0]
  const last = parts[parts.length - 1]
  if (name.length < first.length + last.length) return false
  if (!name.startsWith(first) || !name.endsWith(last)) return false
  let at = first.length
  const end = name.length - last.length
  for (const middle of parts.slice(1, -1)) {
    const found = name.indexOf(middle, at)
    if (found < 0 || found + middle.length > end) return false
    at = found + middle.length
  }
  return true
}

/** Matcher for model names: exact names through a Set, wildcards through one RegExp. */
export function compileModelList(list: List): (model: string) => boolean {
  return compileNameList(list)
}

/** Matcher for request paths (`/v1/*` style entries). */
export function compilePathList(list: List): (path: string) => boolean {
  return compileNameList(list)
}

export function levelAllowed(list: List, level: number): boolean {
  return list === null || list.includes(String(level))
}

/**
 * The lists that restrict an account, given the lists from the root (or the global config) down
 * to the account itself: unrestricted ones drop out, and one that blocks all blocks everything.
 * The effective rule is that every returned list must match, never a symbolic intersection.
 */
export function effective(lists: readonly List[]): (readonly string[])[] {
  const restricting = lists.filter((l): l is readonly string[] => l !== null)
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
  return (subject) => matchers.every((m) => m(subject))
}

const COMPILERS: { [K in ListKind]: (list: List) => (s: Subject[K]) => boolean } = {
  ips: compileIpList,
  models: compileModelList,
  levels: (list) => (level) => levelAllowed(list, level),
  resources: compilePathList,
}

function compileNameList(list: List): (name: string) => boolean {
  if (list === null) return () => true
  const exact = new Set(list.filter((e) => !e.includes('*')))
  const wild = list.filter((e) => e.includes('*')).map((e) => wildcardSource(e))
  const re = wild.length > 0 ? new RegExp(`^(?:${wild.join('|')})$`, 's') : null
  return (name) => exact.has(name) || (re !== null && re.test(name))
}
