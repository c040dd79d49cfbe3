// Accounts named by identifiers (§3) for reports, news and rotation, with the grammar of the
// accounts API (ID, DNA, L/G/R/T/F filter, e-mail, else Name) and its subtree rule: a target
// outside the caller's subtree answers 404, exactly like one that does not exist.
import { inSubtree, notFound, parseIdent, type Ident } from '../accounts/access'
import type { Account, AccountsRepo } from '../accounts/repo'
import { AppError } from '../shared/errors'

export { inSubtree, notFound, parseIdent }

export type AccountLookup = Pick<
  AccountsRepo,
  'findById' | 'findByName' | 'findByEmail' | 'findByDna'
>

/** The account an identifier names (never a filter), or null. */
export async function findAccount(lookup: AccountLookup, id: Ident): Promise<Account | null> {
  switch (id.kind) {
    case 'id':
      return lookup.findById(id.id)
    case 'dna':
      return lookup.findByDna(id.dna)
    case 'email':
      // E-mails are stored in lower case; names from INIT_USERS may hold '@'.
      return (await lookup.findByEmail(id.email)) ?? (await lookup.findByName(id.raw))
    case 'name':
      return lookup.findByName(id.name)
    case 'filter':
      return null
  }
}

/** The one account `raw` names inside the caller's subtree (the caller included), else 404. */
export async function resolveInSubtree(
  lookup: AccountLookup,
  caller: Account,
  raw: string,
  param: string,
): Promise<Account> {
  const id = parseIdent(raw)
  if (id.kind === 'filter') {
    throw new AppError('bad_request', `${param}: '${raw}' is a list filter, not one account`, {
      param,
    })
  }
  const a = await findAccount(lookup, id)
  if (!a || !inSubtree(caller, a)) throw notFound(raw)
  return a
}

/**
 * The check every route of reports, news, rotation, settings and the dashboard makes after
 * authentication: the caller and each ancestor are enabled (a disabled account disables its
 * subtree); the caller's id goes to the access log.
 */
export async function gateCaller(
  d: {
    tree: { usable(a: Account): Promise<boolean> }
    requestMeta: WeakMap<Request, { accountId?: number }>
  },
  request: Request,
  caller: Account,
): Promise<void> {
  const meta = d.requestMeta.get(request)
  if (meta) meta.accountId = caller.id
  if (!(await d.tree.usable(caller))) {
    throw new AppError('account_disabled', 'account is disabled (itself or an ancestor)')
  }
}
