// SQL of key rotation: whether a key hash is taken, and the swap of an account's key.
import type { Database } from 'bun:sqlite'

export type RotationRepo = ReturnType<typeof createRotationRepo>

export function createRotationRepo(db: Database) {
  const taken = db.prepare('SELECT 1 FROM accounts WHERE key_hash = ?')
  const swap = db.prepare(
    'UPDATE accounts SET key_hash = ?, key_tail = ?, updated_at = ? WHERE id = ? AND key_hash = ?',
  )
  return {
    keyTaken: (hash: string) => taken.get(hash) !== null,
    /** Replaces the key of `id` if it still is `oldHash`; returns whether it did. */
    swapKey(id: number, oldHash: string, hash: string, tail: string, atMs: number): boolean {
      return swap.run(hash, tail, atMs, id, oldHash).changes === 1
    },
    transaction<T>(fn: () => T): T {
      return db.transaction(fn).immediate()
    },
  }
}
