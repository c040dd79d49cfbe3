// Who may use the subaccount API and on what: the caller's gate (enabled chain, least balance),
// identifiers in a path (ID, Name, Email, DNA, list filters) and the subtree rule: a target
// outside the caller's subtree answers 404, exactly as one that does not exist.
import { AppError } from '../shared/errors'
import { nanoToUsd, usdToNano } from '../shared/money'
import { balanceOf } from '../wallet/cards'
import type { CardsRepo } from '../wallet/repo'
import { FILTER_COLUMNS, type ListFilter } from './directory-repo'
import { FILTER_RE } from './values'
import { isRoot } from '../wallet/moves'
import type { Account, AccountsRepo } from './repo'
import type { Tree } from './tree'

export type Ident =
  | { kind: 'id'; id: number }
  | { kind: 'dna'; dna: string }
  | { kind: 'email'; email: string; raw: string }
  | { kind: 'name'; name: string }
  | { kind: 'filter'; column: NonNullable<ListFilter['column']> }

const DNA_RE = /^(\.\d+)+\.$/

export function parseIdent(raw: string): Ident {
  const s = raw.trim()
  if (/^\d{1,15}$/.test(s)) return { kind: 'id', id: Number(s) }
  if (DNA_RE.test(s)) return { kind: 'dna', dna: s }
  const f = FILTER_RE.exec(s)
  if (f) {
    const name = FILTER_COLUMNS[s[0] as keyof typeof FILTER_COLUMNS]
    return { kind: 'filter', column: { name, value: Number(f[1]) } }
  }
  if (s.includes('@')) return { kind: 'email', email: s.toLowerCase(), raw: s }
  return { kind: 'name', name: s }
}

export const inSubtree = (root: Account, a: Account) => a.dna.startsWith(root.dna)

export function notFound(raw: string): AppError {
  return new AppError('not_found', `no account '${raw}' in your subtree`)
}

export type Access = ReturnType<typeof createAccess>

export function createAccess(d: {
  repo: AccountsRepo
  cards: CardsRepo
  tree: Tree
  minApiBalanceUsd: number
  now: () => number
}) {
  const find = async (id: Ident): Promise<Account | null> => {
    switch (id.kind) {
      case 'id':
        return d.repo.findById(id.id)
      case 'dna':
        return d.repo.findByDna(id.dna)
      case 'email':
        // Names from INIT_USERS may hold '@'; e-mails are stored in lower case.
        return (await d.repo.findByEmail(id.email)) ?? (await d.repo.findByName(id.raw))
      case 'name':
        return d.repo.findByName(id.name)
      case 'filter':
        return null
    }
  }

  return {
    /** 401 when the caller or an ancestor is disabled, or a non-root caller's balance is low. */
    async gate(caller: Account): Promise<void> {
      if (!(await d.tree.usable(caller))) {
        throw new AppError('account_disabled', 'account is disabled (itself or an ancestor)')
      }
      if (isRoot(caller)) return
      const balance = balanceOf(await d.cards.cardsOf(caller.id), d.now())
      if (balance < usdToNano(d.minApiBalanceUsd)) {
        throw new AppError(
          'api_balance_too_low',
          `the subaccount API needs a balance of ${d.minApiBalanceUsd} USD; yours is ${nanoToUsd(balance)}`,
        )
      }
    },
    /** The one account named by `raw`, which must be the caller or a descendant (else 404). */
    async resolve(caller: Account, raw: string): Promise<Account> {
      const id = parseIdent(raw)
      if (id.kind === 'filter') {
        throw new AppError(
          'bad_request',
          `identifier: '${raw}' is a list filter, not one account`,
          { param: 'id' },
        )
      }
      const a = await find(id)
      if (!a || !inSubtree(caller, a)) throw notFound(raw)
      return a
    },
    find,
  }
}
