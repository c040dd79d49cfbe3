// Authentication of account keys: extract from the headers, hash, look up through an LRU keyed by
// the key's SHA-256 so the hot path does not touch SQLite, compare in constant time.
import { Elysia } from 'elysia'
import { LRUCache } from 'lru-cache'
import { AppError } from '../shared/errors'
import { hashKey, isKeyFormat, sameHash } from '../shared/ids'
import type { Account, AccountsRepo } from './repo'

/** `Authorization: Bearer KEY`, a bare `Authorization: KEY`, or `x-api-key: KEY`. */
export function extractKey(headers: Headers): string | null {
  const auth = headers.get('authorization')
  if (auth) {
    // The usual form, without a regular expression; anything else goes the general way.
    if (auth.startsWith('Bearer ') && auth.charCodeAt(7) > 32) return auth.slice(7).trim() || null
    const v = auth.trim()
    const m = /^bearer\s+(.+)$/i.exec(v)
    return (m ? m[1]! : v).trim() || null
  }
  const x = headers.get('x-api-key')
  return x ? x.trim() || null : null
}

export type Authenticator = ReturnType<typeof createAuthenticator>

export function createAuthenticator(repo: AccountsRepo, opts: { max?: number } = {}) {
  // Negative answers are cached too (as null), so a flood of bad keys stays off SQLite.
  const cache = new LRUCache<string, Account | 'none'>({ max: opts.max ?? 100_000 })
  const hashById = new Map<number, string>()

  const lookup = (hash: string): Account | null => {
    const hit = cache.get(hash)
    if (hit !== undefined) return hit === 'none' ? null : hit
    const found = repo.findByKeyHash(hash)
    cache.set(hash, found ?? 'none')
    if (found) hashById.set(found.id, hash)
    return found
  }

  return {
    /** The account of a key, or an AppError (401) saying what is wrong. */
    authenticate(headers: Headers): Account {
      const key = extractKey(headers)
      if (!key)
        throw new AppError('missing_api_key', 'missing API key: send Authorization: Bearer sk-Xvs…')
      if (!isKeyFormat(key)) throw new AppError('invalid_api_key', 'invalid API key')
      const hash = hashKey(key)
      const account = lookup(hash)
      if (!account || !sameHash(account.keyHash, hash)) {
        throw new AppError('invalid_api_key', 'invalid API key')
      }
      if (!account.status) throw new AppError('account_disabled', 'account is disabled')
      return account
    },
    /** Forget one account (after an update, rotation or delete): the next call reads SQLite. */
    invalidate(accountId: number) {
      const hash = hashById.get(accountId)
      if (hash) cache.delete(hash)
      hashById.delete(accountId)
    },
    /** Forget a key hash (a rotated-away key, a deleted account's key). */
    invalidateHash(hash: string) {
      cache.delete(hash)
    },
    clear() {
      cache.clear()
      hashById.clear()
    },
  }
}

/** Admin routes: derives `caller` from the key before the body is validated, so a bad key is 401 whatever the body. */
export const adminAuth = (auth: Authenticator) =>
  new Elysia({ name: 'admin-auth' }).derive({ as: 'scoped' }, ({ request }) => ({
    caller: auth.authenticate(request.headers),
  }))

/** Root-only routes: 403 for anyone else. */
export function requireRoot(caller: Account): void {
  if (caller.id !== 1) throw new AppError('forbidden', 'only root may do this')
}
