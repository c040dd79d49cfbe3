// The subaccount API's decisions: create, update (fields, re-rating, funding, deducting) and
// delete, each one store transaction (account, cards, ledger, operation log, all through the
// transaction's Writer) after the write-behind has been flushed, followed by the account events.
import { txWithRetry, type SqlDb } from '../db/sql'
import type { Config } from '../config'
import type { Flusher } from '../db/flusher'
import type { OpLogRepo } from '../logs/repo'
import type { Clock } from '../shared/clock'
import { AppError } from '../shared/errors'
import type { AccountEvent, Events } from '../shared/events'
import { generateKey, hashKey, isKeyFormat, newRequestId, partialKey } from '../shared/ids'
import type { Logger } from '../shared/log'
import { createAccess } from './access'
import { createCardsRepo } from '../wallet/repo'
import { createDirectory } from './directory-repo'
import { writerOf, type Writer } from './writer'
import { createEditor } from './editor'
import { type AccountInput, buildPatch, firstPresent, inherit, ROOT_ONLY } from './fields'
import { bad, checkDays, creditNano, limitNano, MAX_LIMIT_USD } from './values'
import { createListing } from './listing'
import { closeEscrow, fund, isRoot, type MoneyCtx } from '../wallet/moves'
import type { Escrow, Holds } from '../wallet/holds'
import type { MoneyMoves } from '../cluster/sync'
import type { Account, AccountsRepo } from './repo'
import { parentJson, storedFields } from './render'
import { eventOf, type Tree } from './tree'

export type AccountServiceDeps = {
  db: SqlDb
  repo: AccountsRepo
  oplog: OpLogRepo
  tree: Tree
  events: Events
  flusher: Flusher
  clock: Clock
  config: Config
  log: Logger
  /** The wallet's holds: deletes leave calls in flight their money (see closeEscrow). */
  holds: Holds
  /**
   * Several nodes: the shared money counters follow each committed write by its balance changes,
   * per account (cluster/sync.ts).
   */
  moneyMoves?: MoneyMoves
}

export type AccountService = ReturnType<typeof createAccountService>

export function createAccountService(d: AccountServiceDeps) {
  const now = () => d.clock.now()
  const cards = createCardsRepo(d.db)
  const directory = createDirectory(d.db)
  const access = createAccess({
    repo: d.repo,
    cards,
    tree: d.tree,
    minApiBalanceUsd: d.config.USER_API_MIN_BALANCE,
    now,
  })
  const live = (id: number) => ({ heldNano: d.holds.heldOf(id), inFlight: d.holds.callsOf(id) })
  const listing = createListing({ repo: d.repo, cards, directory, access, now, live })

  /** Publishes after commit; a subscriber's failure is logged, never turned into a failed write. */
  const publish = (kind: 'changed' | 'deleted', accounts: AccountEvent[]) => {
    for (const e of accounts) {
      try {
        if (kind === 'changed') d.events.accountChanged(e)
        else d.events.accountDeleted(e)
      } catch (err) {
        d.log.error('account event handler failed', { id: e.id, error: (err as Error).message })
      }
    }
  }

  /** One store transaction; its repositories come in the Writer. */
  const atomically = async <T>(fn: (w: Writer) => Promise<T>): Promise<T> => {
    const moves = d.moneyMoves
    if (!moves) return txWithRetry(d.db, (tx) => fn(writerOf(tx)))
    const moved = new Map<number, number>()
    const onMove = (id: number, delta: number) => void moved.set(id, (moved.get(id) ?? 0) + delta)
    // Listed before the transaction: no reconciliation reads the books half-moved.
    const token = await moves.begin()
    try {
      return await txWithRetry(d.db, (tx) => {
        // A retried transaction starts its moves afresh.
        moved.clear()
        return fn(writerOf(tx, onMove))
      })
    } catch (e) {
      moved.clear()
      throw e
    } finally {
      moves.moved(token, moved)
    }
  }

  const unique = async (w: Writer, patch: Partial<Account>, selfId?: number) => {
    const byName = patch.name === undefined ? null : await w.accounts.findByName(patch.name)
    if (byName && byName.id !== selfId)
      throw new AppError('conflict', `Name: '${patch.name}' is taken`, { param: 'Name' })
    const byEmail = patch.email === undefined ? null : await w.accounts.findByEmail(patch.email)
    if (byEmail && byEmail.id !== selfId)
      throw new AppError('conflict', `Email: '${patch.email}' is taken`, { param: 'Email' })
  }

  const forbidRootOnly = (caller: Account, input: AccountInput) => {
    const f = isRoot(caller) ? undefined : firstPresent(input, ROOT_ONLY)
    if (f) throw new AppError('forbidden', `${f}: only root may set this field`, { param: f })
  }

  const ctxFor = (ref: string, w: Writer): MoneyCtx => ({
    cards: w.cards,
    nowMs: now(),
    ref,
    heldOf: d.holds.heldOf,
    callsOf: d.holds.callsOf,
  })

  /**
   * POST /x-users: a direct child of the caller, funded by the caller. For the control API's
   * AddUserOperation: `opts.key` gives the child a chosen key (else a fresh one is made) and
   * `opts.noMinimum` lets it open without credit (CreditGranted 0, no USER_MIN_BALANCE).
   */
  async function create(
    caller: Account,
    input: AccountInput,
    opts: { ref?: string; key?: string; noMinimum?: boolean } = {},
  ) {
    const ref = opts.ref ?? newRequestId(now())
    if (opts.key !== undefined && !isKeyFormat(opts.key))
      throw bad('SecretKey', 'must be sk-Xvs and 45 letters or digits')
    await access.gate(caller)
    forbidRootOnly(caller, input)
    if (
      input.Name === undefined ||
      input.Email === undefined ||
      input.CreditGranted === undefined
    ) {
      const f =
        input.Name === undefined ? 'Name' : input.Email === undefined ? 'Email' : 'CreditGranted'
      throw bad(f, 'is required')
    }
    const x = creditNano(input.CreditGranted, opts.noMinimum ? 0 : d.config.USER_MIN_BALANCE)
    const days = checkDays(input.Days, x)
    const patch = buildPatch(input, null, caller)
    const hard = patch.hardLimitNano ?? Math.min(x * 10, limitNano(MAX_LIMIT_USD))
    await d.flusher.flushNow()
    const out = await atomically(async (w) => {
      await w.accounts.lock([caller.id])
      const payer = await w.accounts.findById(caller.id)
      if (!payer) throw new AppError('invalid_api_key', 'invalid API key')
      if (payer.childLimit > 0 && (await w.accounts.childCount(payer.id)) >= payer.childLimit) {
        throw new AppError(
          'forbidden',
          `ChildLimit: you may have at most ${payer.childLimit} direct children`,
        )
      }
      await unique(w, patch)
      const key = opts.key ?? generateKey()
      if (await w.accounts.findByKeyHash(hashKey(key)))
        throw new AppError('conflict', 'SecretKey: already in use', { param: 'SecretKey' })
      const t = now()
      const child = await w.accounts.insert(
        {
          ...inherit(payer, patch),
          id: await w.accounts.nextId(),
          parentId: payer.id,
          billingEmail: null,
          status: true,
          hardLimitNano: hard,
          softLimitNano: Math.round(hard * 0.8),
          allowIps: null,
          allowModels: null,
          allowLevels: null,
          resources: null,
          ...patch,
          name: patch.name!,
          email: patch.email!,
          alias: patch.alias ?? patch.name!,
          keyHash: hashKey(key),
          keyTail: partialKey(key),
          creditGrantedNano: x,
          createdAt: t,
          updatedAt: t,
        } as Omit<Account, 'id' | 'dna'>,
        payer.dna,
      )
      const { costNano } = x > 0 ? await fund(ctxFor(ref, w), payer, child, x, days) : { costNano: 0 }
      await w.oplog.record(
        {
          action: 'add_user',
          operatorId: payer.id,
          operatorDna: payer.dna,
          targetId: child.id,
          targetDna: child.dna,
          details: {
            ref,
            name: child.name,
            credit: x / 1e9,
            cost: costNano / 1e9,
            days,
            fields: storedFields(child),
          },
        },
        t,
      )
      return { payer, child, key }
    })
    publish('changed', [eventOf(out.child), eventOf(out.payer)])
    const nowMs = now()
    const payerCards = await cards.cardsOf(out.payer.id)
    const { SecretKey: _s, ...updates } = await listing.user(out.child, nowMs)
    return {
      Action: 'add' as const,
      Parent: parentJson(out.payer, payerCards, nowMs),
      User: { ID: out.child.id, Name: out.child.name, SecretKey: out.key, Updates: updates },
    }
  }

  const editor = createEditor({
    cards,
    directory,
    access,
    now,
    atomically,
    unique,
    forbidRootOnly,
    ctxFor,
    flushNow: () => d.flusher.flushNow(),
    publish,
    holds: d.holds,
  })

  /** A deleted account's last call ended: its leftover goes to the nearest surviving ancestor. */
  const onEscrowClosed = async (x: Escrow) => {
    try {
      await d.flusher.flushNow()
      const heir = await atomically(async (w) => {
        await w.accounts.lock(x.ancestorIds)
        let a: Account | null = null
        for (const id of x.ancestorIds) if (!a) a = await w.accounts.findById(id)
        if (!a) return null
        const nano = await closeEscrow(ctxFor(x.ref, w), a, x)
        d.log.info('deleted account settled', { accountId: x.accountId, heir: a.id, nano })
        return w.accounts.findById(a.id)
      })
      if (heir) publish('changed', [eventOf(heir)])
    } catch (e) {
      d.log.error('settling a deleted account failed', {
        accountId: x.accountId,
        leftNano: x.leftNano,
        error: (e as Error).message,
      })
    }
  }
  d.holds.onEscrowClosed(onEscrowClosed)

  return {
    create,
    update: editor.update,
    remove: editor.remove,
    /** GET lists: gated like the writes; the write-behind is flushed so balances are current. */
    async list(...args: Parameters<typeof listing.list>) {
      await access.gate(args[0])
      await d.flusher.flushNow()
      return listing.list(...args)
    },
    user: (a: Account) => listing.user(a, now()),
    /** Reads of the accounts outside a transaction (the admin API's lookups). */
    repo: d.repo,
    gate: access.gate,
    resolve: access.resolve,
    cards,
    directory,
    live,
    /** Exposed for tests and `xgate check`: accounts whose cards differ from their ledger. */
    invariantViolations: () => cards.invariantViolations(),
    buildPatch,
  }
}
