// What keeps several nodes' memories one (SPEC §11): every change committed here is published on
// the bus, and every change published by another node drops what this node cached of it, within
// the bus's delivery time. Nothing is polled. A node that lost its subscription drops everything it
// cached before it delivers again (bus.onResync).
import type { AccountEvent, Events } from '../shared/events'
import type { Logger } from '../shared/log'
import type { PoolKey, SharedKeyState } from '../keys/pool'
import type { Bus, Change } from './bus'
import type { Redis } from './redis'
import type { SharedHolds } from './holds'

/** Published changes a node could not send yet, retried until sent (oldest dropped beyond this). */
const MAX_UNSENT = 10_000
const RETRY_MS = 250
/** Ids per `balance` message. */
const IDS_PER_MESSAGE = 500

export type Announcer = {
  /** Publishes after commit; a failed publish is retried until Redis takes it. */
  announce(kind: string, id: string | number): void
  /** Changes not yet published. */
  readonly unsent: number
  close(): void
}

export function createAnnouncer(bus: Bus, log: Logger): Announcer {
  let unsent: Array<[string, string]> = []
  let timer: ReturnType<typeof setTimeout> | null = null
  let closed = false

  const retry = () => {
    if (timer || closed) return
    timer = setTimeout(async () => {
      timer = null
      const batch = unsent
      unsent = []
      for (let i = 0; i < batch.length; i++) {
        try {
          await bus.publish(batch[i]![0], batch[i]![1])
        } catch {
          unsent = batch.slice(i).concat(unsent)
          return retry()
        }
      }
    }, RETRY_MS)
  }

  const announce = (kind: string, id: string | number) => {
    if (closed) return
    if (unsent.length) {
      unsent.push([kind, String(id)])
      return
    }
    bus.publish(kind, id).catch((e) => {
      log.warn('change not published yet; retrying', { kind, error: (e as Error).message })
      unsent.push([kind, String(id)])
      if (unsent.length > MAX_UNSENT) unsent.shift()
      retry()
    })
  }

  return {
    announce,
    get unsent() {
      return unsent.length
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
    },
  }
}

/** The caches and stores of one node that other nodes' changes reach. */
export type NodeParts = {
  nodeId: string
  bus: Bus
  announcer: Announcer
  events: Events
  holds: SharedHolds
  log: Logger
  /** Cached balances of these accounts are stale (another node's flush wrote them). */
  balancesChanged(ids: readonly number[]): void
  /** Settings stored by another node: read them again. */
  reloadSettings(): Promise<unknown>
  /** An upstream key added, changed or removed elsewhere: read it again. */
  refreshKey(id: number): Promise<void>
  applyKeyState(id: number, state: SharedKeyState): void
  /** Drops everything cached (accounts, views, policies, balances) and reads settings and keys again. */
  resync(): Promise<void>
}

const accountOf = (c: Change): AccountEvent | null => {
  try {
    const e = JSON.parse(c.id) as AccountEvent
    return typeof e.id === 'number' && typeof e.name === 'string' && typeof e.dna === 'string'
      ? { id: e.id, name: e.name, dna: e.dna, remote: true }
      : null
  } catch {
    return null
  }
}

const plain = (e: AccountEvent) => JSON.stringify({ id: e.id, name: e.name, dna: e.dna })

/** The announcements of this node's own work, in the shapes the bus carries. */
export function keyAnnouncements(announcer: Announcer) {
  return {
    changed: (id: number) => announcer.announce('upstream', id),
    state: (k: PoolKey) =>
      announcer.announce(
        'key-state',
        JSON.stringify({ id: k.id, sleepUntilMs: k.sleepUntilMs, disabledReason: k.disabledReason }),
      ),
  }
}

/** What an admin write tells the shared counters: before its transaction, and after it. */
export type MoneyMoves = {
  /** Lists the write as a move in progress; null when Redis could not be told. */
  begin(): Promise<string | null>
  /** The write is over (`deltas` empty when it failed or moved nothing). */
  moved(token: string | null, deltas: ReadonlyMap<number, number>): void
  /** The account's counter missed a move and is not dropped yet: its calls wait (money closed). */
  stale(accountId: number): boolean
  /** Drops the account's counter, retried until Redis takes it; its calls wait until then. */
  drop(accountId: number): void
  close(): void
}

/**
 * Several nodes: an admin write's money moves the shared counters after it commits. A counter
 * that could not follow is dropped, retried until Redis takes it (made again from the books on
 * next use); until then the account's calls are refused as when Redis is away.
 */
export function moneyMoved(holds: SharedHolds, log: Logger): MoneyMoves {
  const stale = new Set<number>()
  let timer: ReturnType<typeof setTimeout> | null = null
  const drop = () => {
    if (timer) return
    timer = setTimeout(async () => {
      timer = null
      for (const id of [...stale]) {
        try {
          await holds.forget(id)
          stale.delete(id)
        } catch {
          return drop()
        }
      }
    }, RETRY_MS)
    timer.unref?.()
  }
  return {
    begin: () => holds.beginMove().catch(() => null),
    moved(token, deltas) {
      const failed = (e: unknown) => {
        if (!deltas.size) return
        log.warn('shared balances not adjusted; dropping them', { accountIds: [...deltas.keys()], error: (e as Error).message })
        for (const id of deltas.keys()) stale.add(id)
        drop()
      }
      if (token === null) return failed(new Error('the move was not listed in Redis'))
      holds.moved(token, deltas).catch(failed)
    },
    stale: (id) => stale.has(id),
    drop(id) {
      stale.add(id)
      drop()
    },
    close() {
      if (timer) clearTimeout(timer)
    },
  }
}

/** Wires this node's events to the bus and the bus to this node's caches. */
export function connectNode(p: NodeParts): void {
  const { bus, announcer, events, log } = p
  const mine = (c: Change) => c.node === p.nodeId
  const failed = (what: string) => (e: unknown) =>
    log.error(`applying another node's change failed: ${what}`, { error: (e as Error).message })

  events.onAccountChanged((e) => {
    if (!e.remote) announcer.announce('account', plain(e))
  })
  events.onAccountDeleted((e) => {
    if (e.remote) return
    announcer.announce('account-deleted', plain(e))
    p.holds.forget(e.id).catch(() => {})
  })
  events.onSettingsChanged((e) => {
    if (!e.remote) announcer.announce('settings', '*')
  })

  bus.on('account', (c) => {
    const e = !mine(c) && accountOf(c)
    if (e) events.accountChanged(e)
  })
  bus.on('account-deleted', (c) => {
    const e = !mine(c) && accountOf(c)
    if (e) events.accountDeleted(e)
  })
  bus.on('settings', (c) => {
    if (!mine(c)) p.reloadSettings().catch(failed('settings'))
  })
  bus.on('upstream', (c) => {
    if (!mine(c)) p.refreshKey(Number(c.id)).catch(failed('upstream key'))
  })
  bus.on('key-state', (c) => {
    if (mine(c)) return
    const s = JSON.parse(c.id) as { id: number } & SharedKeyState
    p.applyKeyState(s.id, { sleepUntilMs: s.sleepUntilMs ?? null, disabledReason: s.disabledReason ?? null })
  })
  bus.on('balance', (c) => {
    if (!mine(c)) p.balancesChanged(c.id.split(',').map(Number).filter(Number.isSafeInteger))
  })
  // Lost: what is cached may go stale unseen, so it goes now (calls read the database afresh);
  // back: dropped again, since changes made meanwhile were not heard.
  bus.onLost(() => void p.resync().catch(failed('resync')))
  bus.onResync(() => p.resync())
}

/** A flush wrote these accounts' balances: the other nodes' cached ones are stale. */
export function announceBalances(announcer: Announcer, accountIds: Iterable<number>): void {
  const ids = [...new Set(accountIds)]
  for (let i = 0; i < ids.length; i += IDS_PER_MESSAGE)
    announcer.announce('balance', ids.slice(i, i + IDS_PER_MESSAGE).join(','))
}

/** True for the one node that claims `key` first (kept `ttlMs`): what the gateway does once. */
async function claimOnce(redis: Redis, key: string, ttlMs: number): Promise<boolean> {
  return (await redis.send('SET', [`${redis.prefix}${key}`, '1', 'NX', 'PX', String(ttlMs)])) === 'OK'
}

/** Alert mails claimed in Redis: the first node to claim one sends it (alerts/service.ts). */
export function alertClaims(redis: Redis) {
  return {
    claim: (k: string, ttlMs: number) => claimOnce(redis, `alert:${k}`, ttlMs),
    release: async (k: string) => void (await redis.send('DEL', [`${redis.prefix}alert:${k}`])),
  }
}

/** How long a card's expiry claim is kept: longer than any node goes without summing its cards. */
const EXPIRY_CLAIM_MS = 40 * 24 * 3_600_000

/**
 * A card with money left expired: the first node that sees it takes the money off the account's
 * shared counter, once for the gateway (a claim per card in Redis). A node's cached card may show
 * more than is left (other nodes spent from it): then the counter loses too much, never too
 * little, until it is made again from the books.
 */
export function cardExpiry(redis: Redis, holds: SharedHolds, log: Logger) {
  return (accountId: number, expiredNano: number, key: string) => {
    void (async () => {
      if (await claimOnce(redis, `exp:${key}`, EXPIRY_CLAIM_MS)) await holds.adjust(accountId, -expiredNano)
    })().catch((e) => {
      log.warn('expired card not taken off the shared balance; dropping it', { accountId, error: (e as Error).message })
      holds.forget(accountId).catch(() => {})
    })
  }
}
