// SQL of key rotation: whether a key hash is taken, and the swap of an account's key.
import type { Sql } from '../db/sql'

export type RotationRepo = ReturnType<typeof createRotationRepo>

export function createRotationRepo(sql: Sql) {
  return {
    keyTaken: async (hash: string) =>
      (await sql.get('SELECT 1 AS ok FROM accounts WHERE key_hash = ?', [hash])) !== undefined,
    /** Replaces the key of `id` if it still is `oldHash`; returns whether it did. */
    async swapKey(id: number, oldHash: string, hash: string, tail: string, atMs: number): Promise<boolean> {
      const n = await sql.run(
        'UPDATE accounts SET key_hash = ?, key_tail = ?, updated_at = ? WHERE id = ? AND key_hash = ?',
        [hash, tail, atMs, id, oldHash],
      )
      return n === 1
    },
  }
}
