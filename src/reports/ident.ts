// Identifiers of accounts in paths, bodies and queries (§3): numeric ID, DNA, list filter
// (L/G/R/T/F + number), e-mail, else Name; and the subtree rule: a target outside the caller's
// subtree answers 404, exactly like one that does not exist.
import type { Account } from '../accounts/repo'
import { AppError } from '../shared/errors'
import { FILTER_COLUMNS, type AccountLookup, type FilterColumn } from './repo'

export type Ident =
  | { kind: 'id'; id: number }
  | { kind: 'dna'; dna: string }
  | { kind: 'filter'; column: FilterColumn; value: number }
  | { kind: 'email'; email: string }
  | { kind: 'name'; name: string }

const DNA_RE = /^(\.\d+)+\.$/
const FILTER_RE = /^([LGRTF])(-?\d+(?:\.\d+)?)$/

export function parseIdent(raw: string): Ident {
  const s = raw.trim()
  if (/^\d{1,15}$/.test(s)) return { kind: 'id', id: Number(s) }
  if (DNA_RE.test(s)) return { kind: 'dna', dna: s }
  const f = FILTER_RE.exec(s)
  if (f) {
    return {
      kind: 'filter',
      column: FILTER_COLUMNS[f[1] as keyof typeof FILTER_COLUMNS],
      value: Number(f[2]),
    }
  }
  if (s.includes('@')) return { kind: 'email', email: s }
  return { kind: 'name', name: s }
}

export const inSubtree = (top: Account, a: Account) => a.dna.startsWith(top.dna)

export function notFound(raw: string): AppError {
  return new AppError('not_found', `no account '${raw}' in your subtree`)
}

/** The account an identifier names (not a filter), or null. E-mails match case-insensitively. */
export function findAccount(lookup: AccountLookup, id: Ident): Account | null {
  switch (id.kind) {
    case 'id':
      return lookup.byId(id.id)
    case 'dna':
      return lookup.byDna(id.dna)
    case 'email':
      return (
        lookup.byEmail(id.email) ??
        lookup.byEmail(id.email.toLowerCase()) ??
        lookup.byName(id.email)
      )
    case 'name':
      return lookup.byName(id.name)
    case 'filter':
      return null
  }
}

/** The one account `raw` names inside the caller's subtree (the caller included), else 404. */
export function resolveInSubtree(
  lookup: AccountLookup,
  caller: Account,
  raw: string,
  param: string,
): Account {
  const id = parseIdent(raw)
  if (id.kind === 'filter') {
    throw new AppError('bad_request', `${param}: '${raw}' is a list filter, not one account`, {
      param,
    })
  }
  const a = findAccount(lookup, id)
  if (!a || !inSubtree(caller, a)) throw notFound(raw)
  return a
}
