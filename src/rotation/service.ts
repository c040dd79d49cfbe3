// Key rotation (§3): POST /x-self rotates the caller's own key, POST /x-root (root) rotates root's
// or a named account's key, optionally to a given key. The confirm string carries today's date
// (TZ, or UTC). The new key is shown once; the old one fails from the next request on.
import type { Account } from '../accounts/repo'
import type { Authenticator } from '../accounts/auth'
import type { SqlDb } from '../db/sql'
import { createOpLogRepo } from '../logs/repo'
import { dayKey } from '../reports/days'
import { resolveInSubtree, type AccountLookup } from '../reports/ident'
import type { Clock } from '../shared/clock'
import { AppError } from '../shared/errors'
import type { Events } from '../shared/events'
import { generateKey, hashKey, isKeyFormat, partialKey } from '../shared/ids'
import { createRotationRepo } from './repo'

export type Rotated = {
  success: true
  message: string
  rotate: {
    action: 'rotate_self' | 'rotate_root'
    id: number
    name: string
    key: string
    timestamp: string
  }
}

export type RotationService = ReturnType<typeof createRotationService>

export function createRotationService(d: {
  db: SqlDb
  lookup: AccountLookup
  auth: Authenticator
  events: Events
  clock: Clock
  timeZone: string
}) {
  /** Accepts `YYYY-MM-DD-SUFFIX` for today in TZ or in UTC; else a 400 showing the form. */
  const checkConfirm = (confirm: string, suffix: string, nowMs: number) => {
    const local = `${dayKey(nowMs, d.timeZone)}-${suffix}`
    const utc = `${dayKey(nowMs, 'UTC')}-${suffix}`
    if (confirm.trim() === local || confirm.trim() === utc) return
    // One expected string, said once; UTC's date is named only on the day it differs from TZ's.
    const alt = utc === local ? '' : ` (or "${utc}", the date in UTC)`
    throw new AppError(
      'bad_request',
      `confirm must be "${local}"${alt}: today's date in ${d.timeZone} followed by -${suffix}`,
      { param: 'confirm' },
    )
  }

  const rotate = async (
    actor: Account,
    target: Account,
    action: Rotated['rotate']['action'],
    given?: string,
  ): Promise<Rotated> => {
    const now = d.clock.now()
    if (given !== undefined && !isKeyFormat(given)) {
      throw new AppError('bad_request', 'key: must be sk-Xvs followed by 45 letters or digits', {
        param: 'key',
      })
    }
    const key = given ?? generateKey()
    const hash = hashKey(key)
    await d.db.tx(async (tx) => {
      const repo = createRotationRepo(tx)
      if (await repo.keyTaken(hash)) throw new AppError('conflict', 'key: already in use')
      if (!(await repo.swapKey(target.id, target.keyHash, hash, partialKey(key), now))) {
        throw new AppError('conflict', 'the key changed meanwhile; try again')
      }
      await createOpLogRepo(tx).record(
        {
          action,
          operatorId: actor.id,
          operatorDna: actor.dna,
          targetId: target.id,
          targetDna: target.dna,
          details: { name: target.name, partial_key: partialKey(key), given: given !== undefined },
        },
        now,
      )
    })
    // The old key fails at once; the new one may sit in the cache as unknown if it was tried.
    d.auth.invalidate(target.id)
    d.auth.invalidateHash(target.keyHash)
    d.auth.invalidateHash(hash)
    d.events.accountChanged({ id: target.id, name: target.name, dna: target.dna })
    return {
      success: true,
      // The XAI reference's wording; the old key stops working at once, the new one is shown once.
      message: action === 'rotate_self' ? 'Self key rotated successfully' : 'Key rotated successfully',
      rotate: {
        action,
        id: target.id,
        name: target.name,
        key,
        timestamp: new Date(now).toISOString(),
      },
    }
  }

  return {
    self(caller: Account, body: { confirm: string }): Promise<Rotated> {
      checkConfirm(body.confirm, 'ROTATE-SELF', d.clock.now())
      return rotate(caller, caller, 'rotate_self')
    },
    async root(caller: Account, body: { confirm: string; name?: string; key?: string }): Promise<Rotated> {
      if (caller.id !== 1) throw new AppError('forbidden', 'only root may do this')
      checkConfirm(body.confirm, 'ROTATE-ROOT', d.clock.now())
      const target =
        body.name === undefined ? caller : await resolveInSubtree(d.lookup, caller, body.name, 'name')
      return rotate(caller, target, 'rotate_root', body.key)
    },
  }
}
