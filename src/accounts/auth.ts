// Authentication of account keys: extract from the headers, hash, look up through an LRU keyed by
// the key's SHA-256 so the hot path does not touch the store, compare in constant time.
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
  // Negative answers are cached too (as null), so a flood of bad keys stays off the store.
  const cache = new LRUCache<string, Account | 'none'>({ max: opts.max ?? 100_000 })
  const hashById = new Map<number, string>()

  // One read per key hash at a time; a change while it is on its way drops its answer.
  const loading = new Map<string, Promise<Account | null>>()
  let epoch = 0
  const load = (hash: string): Promise<Account | null> => {
    let p = loading.get(hash)
    if (p) return p
    const started = epoch
    p = repo.findByKeyHash(hash).then(
      (found) => {
        loading.delete(hash)
        if (started === epoch) {
          cache.set(hash, found ?? 'none')
          if (found) hashById.set(found.id, hash)
        }
        return found
      },
      (e) => {
        loading.delete(hash)
        throw e
      },
    )
    loading.set(hash, p)
    return p
  }

  const accept = (account: Account | null, hash: string): Account => {
    if (!account || !sameHash(account.keyHash, hash)) {
      throw new AppError('invalid_api_key', 'invalid API key')
    }
    if (!account.status) throw new AppError('account_disabled', 'account is disabled')
    return account
  }

  return {
    /**
     * The account of a key, or an AppError (401) saying what is wrong. From the cache without
     * waiting; a key not seen yet is read from the store (a promise, once per key).
     */
    authenticate(headers: Headers): Account | Promise<Account> {
      const key = extractKey(headers)
      if (!key)
        throw new AppError('missing_api_key', 'missing API key: send Authorization: Bearer sk-Xvs…')
      if (!isKeyFormat(key)) throw new AppError('invalid_api_key', 'invalid API key')
      const hash = hashKey(key)
      const hit = cache.get(hash)
      if (hit !== undefined) return accept(hit === 'none' ? null : hit, hash)
      return load(hash).then((found) => accept(found, hash))
    },
    /** Forget one account (after an update, rotation or delete): the next call reads the store. */
    invalidate(accountId: number) {
      epoch++
      const hash = hashById.get(accountId)
      if (hash) cache.delete(hash)
      hashById.delete(accountId)
    },
    /** Forget a key hash (a rotated-away key, a deleted account's key). */
    invalidateHash(hash: string) {
      epoch++
      cache.delete(hash)
    },
    clear() {
      epoch++
      cache.clear()
      hashById.clear()
    },
  }
}

/** Admin routes: derives `caller` from the key before the body is validated, so a bad key is 401 whatever the body. */
export const adminAuth = (auth: Authenticator) =>
  new Elysia({ name: 'admin-auth' }).derive({ as: 'scoped' }, async ({ request }) => ({
    caller: await auth.authenticate(request.headers),
  }))

/** Root-only routes: 403 for anyone else. */
export function requireRoot(caller: Account): void {
  if (caller.id !== 1) throw new AppError('forbidden', 'only root may do this')
}
