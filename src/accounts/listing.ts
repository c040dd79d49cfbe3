// Reads of the subaccount API: GET /x-users (direct children) and GET /x-dna (all descendants),
// whole lists page by page, by query filters, or one account / one filter named in the path.
import { AppError } from '../shared/errors'
import { type Access, inSubtree, notFound, parseIdent } from './access'
import type { CardsRepo } from '../wallet/repo'
import type { Directory, ListFilter, ListScope } from './directory-repo'
import type { Account, AccountsRepo } from './repo'
import { type LiveOf, type UserJson, userJson } from './render'

export type ListQuery = {
  id?: number
  name?: string
  email?: string
  level?: number
  dna?: string
  page?: number
  size?: number
}

/** `one` when the path named a single account (ID, Name, Email): answered as one object. */
export type ListAnswer = {
  users: UserJson[]
  total: number
  page: number
  size: number
  one?: UserJson
}

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

export type Listing = ReturnType<typeof createListing>

export function createListing(d: {
  repo: AccountsRepo
  cards: CardsRepo
  directory: Directory
  access: Access
  now: () => number
  live: LiveOf
}) {
  /** One user object with its cards and counters. */
  const user = async (a: Account, nowMs: number) => {
    const usage = await d.directory.usageOf(a.id)
    return userJson(
      a,
      {
        cards: await d.cards.cardsOf(a.id),
        child: await d.repo.childCount(a.id),
        requests: usage.requests,
        creditUsedNano: usage.costNano,
        live: d.live(a.id),
      },
      nowMs,
    )
  }

  /** A page of user objects: cards, child counts and usage read in three statements in all. */
  const users = async (accounts: readonly Account[], nowMs: number) => {
    const ids = accounts.map((a) => a.id)
    const [cards, kids, usage] = await Promise.all([
      d.cards.cardsOfMany(ids),
      d.directory.childCounts(ids),
      d.directory.usageOfMany(ids),
    ])
    return accounts.map((a) => {
      const u = usage.get(a.id)
      return userJson(
        a,
        {
          cards: cards.get(a.id) ?? [],
          child: kids.get(a.id) ?? 0,
          requests: u?.requests ?? 0,
          creditUsedNano: u?.costNano ?? 0,
          live: d.live(a.id),
        },
        nowMs,
      )
    })
  }

  /**
   * `scope` 'children' lists the caller's direct children, 'subtree' all its descendants.
   * `ident` (a path segment) names one account (the caller itself or one in scope) or a filter.
   */
  async function list(
    caller: Account,
    kind: ListScope['kind'],
    ident: string | undefined,
    q: ListQuery,
  ): Promise<ListAnswer> {
    const nowMs = d.now()
    const page = q.page ?? 1
    const size = q.size ?? DEFAULT_PAGE_SIZE
    if (!(Number.isInteger(size) && size >= 1 && size <= MAX_PAGE_SIZE)) {
      throw new AppError('bad_request', `size: must be an integer from 1 to ${MAX_PAGE_SIZE}`, {
        param: 'size',
      })
    }
    if (!(Number.isInteger(page) && page >= 1 && page <= 1_000_000)) {
      throw new AppError('bad_request', 'page: must be an integer from 1', { param: 'page' })
    }
    const filter: ListFilter = {}
    if (ident !== undefined) {
      const id = parseIdent(ident)
      if (id.kind === 'filter') filter.column = id.column
      else {
        // One account (ID, Name, Email) or the top of a DNA group: yourself or one in scope.
        const a = await d.access.find(id)
        if (!a || !inSubtree(caller, a)) throw notFound(ident)
        if (kind === 'children' && a.id !== caller.id && a.parentId !== caller.id) {
          throw new AppError(
            'not_found',
            `account '${ident}' is not a direct subaccount; use /x-dna/${ident}`,
          )
        }
        if (id.kind !== 'dna') return { one: await user(a, nowMs), users: [], total: 1, page: 1, size }
        filter.dna = id.dna
      }
    }
    if (q.id !== undefined) filter.id = q.id
    if (q.name !== undefined) filter.name = q.name
    if (q.email !== undefined) filter.email = q.email.trim().toLowerCase()
    if (q.level !== undefined) filter.level = q.level
    if (q.dna !== undefined) {
      if (!/^(\.\d+)+\.$/.test(q.dna)) {
        throw new AppError('bad_request', `dna: '${q.dna}' is not a DNA like .1.42.`, {
          param: 'dna',
        })
      }
      // A DNA group in the path and one in the query: the accounts in both (the deeper group).
      const [deep, wide] = [filter.dna ?? q.dna, q.dna].sort((x, y) => y.length - x.length)
      if (!deep!.startsWith(wide!)) return { users: [], total: 0, page, size }
      filter.dna = deep
    }
    const scope: ListScope =
      kind === 'children' ? { kind, parentId: caller.id } : { kind, dna: caller.dna }
    const total = await d.directory.count(scope, filter)
    const rows =
      (page - 1) * size < total ? await d.directory.page(scope, filter, size, (page - 1) * size) : []
    return { users: await users(rows, nowMs), total, page, size }
  }

  return { list, user }
}

/**
 * A filter written bare in the query (`GET /x-users?L2`, `?.1.42.`): the key whose value is
 * empty and that reads as a list filter or a DNA group; undefined when there is none.
 */
export function bareFilter(url: string): string | undefined {
  // Read from the URL itself: the query model keeps only the keys it declares.
  const query = new URL(url).searchParams
  const bare = [...query.keys()].filter((k) => {
    if (query.get(k) !== '') return false
    const kind = parseIdent(k).kind
    return kind === 'filter' || kind === 'dna'
  })
  if (bare.length > 1) {
    throw new AppError('bad_request', `filter: one filter at a time (got ${bare.join(', ')})`, {
      param: 'filter',
    })
  }
  return bare[0]
}
