// Changes pushed to every node (SPEC §11): an admin write commits, then publishes what changed;
// each node's subscriber hands it to the handlers at once, so caches drop it within 1 s. A node
// whose subscription dropped subscribes again, then resyncs (drops everything it cached) before
// it delivers again: what changed while it was away is never missed. No polling.
import type { RedisClient } from 'bun'
import type { Redis } from './redis'

/** What changed: a kind (`account`, `key`, `upstream`, `settings`, `news`…) and an id. */
export type Change = { kind: string; id: string; node: string }
export type ChangeHandler = (change: Change) => void

export type Bus = {
  /** Tells every node (this one too) that `kind` `id` changed. Throws when Redis is unreachable. */
  publish(kind: string, id: string | number): Promise<void>
  /** Handlers for one kind, or '*' for all. */
  on(kind: string, handler: ChangeHandler): void
  /** Runs after a lost subscription is back, before any change is delivered again. */
  onResync(handler: () => void | Promise<void>): void
  /** Runs as soon as the subscription is lost (changes made meanwhile may be missed until the resync). */
  onLost(handler: () => void): void
  /** Subscribed and resynced: this node sees every change as it is published. */
  readonly live: boolean
  /** Subscriptions lost and resyncs done since start. */
  readonly resyncs: number
  close(): void
}

export type BusOptions = {
  redis: Redis
  /** This node's id, carried with what it publishes. */
  nodeId: string
  /** Wait between attempts to subscribe again while Redis is away. */
  retryMs?: number
  onError?: (e: unknown) => void
}

const KIND = /^(\*|[a-z][a-z0-9_-]{0,31})$/

function checkKind(kind: string): string {
  if (!KIND.test(kind)) {
    throw new RangeError(`kind must be 1-32 lower-case letters, digits, '-' or '_', got '${kind}'`)
  }
  return kind
}

function parse(message: string): Change | null {
  try {
    const m = JSON.parse(message) as Partial<Change>
    if (typeof m.kind !== 'string' || typeof m.id !== 'string') return null
    return { kind: m.kind, id: m.id, node: typeof m.node === 'string' ? m.node : '' }
  } catch {
    return null
  }
}

/** Subscribes before resolving: changes published after createBus() returns are delivered. */
export async function createBus(opts: BusOptions): Promise<Bus> {
  const { redis } = opts
  const channel = `${redis.prefix}changes`
  const retryMs = opts.retryMs ?? 100
  const onError = opts.onError ?? (() => {})
  const handlers = new Map<string, ChangeHandler[]>()
  const resyncers: Array<() => void | Promise<void>> = []
  const losers: Array<() => void> = []
  let sub: RedisClient | null = null
  let live = false
  let closed = false
  let resyncs = 0
  /** Changes that arrive while a resync runs wait for it, in order. */
  let held: Change[] | null = null

  const deliver = (c: Change) => {
    for (const h of [...(handlers.get(c.kind) ?? []), ...(handlers.get('*') ?? [])]) {
      try {
        h(c)
      } catch (e) {
        onError(e)
      }
    }
  }

  const listener = (message: string) => {
    const c = parse(message)
    if (!c) return onError(new Error(`bus: unreadable message on ${channel}`))
    if (held) held.push(c)
    else deliver(c)
  }

  const resync = async () => {
    held = []
    for (const r of resyncers) {
      try {
        await r()
      } catch (e) {
        onError(e)
      }
    }
    const queued = held
    held = null
    for (const c of queued) deliver(c)
  }

  /** Closes the current connection without treating it as a drop. */
  const drop = () => {
    const c = sub
    sub = null
    c?.close()
  }

  /** One subscribed connection; when it drops, again() starts over on a new one. */
  const subscribe = async (): Promise<RedisClient> => {
    const c = await redis.subscriber()
    c.onclose = () => {
      if (sub !== c) return
      sub = null
      live = false
      for (const h of losers) {
        try {
          h()
        } catch (e) {
          onError(e)
        }
      }
      if (!closed) void again()
    }
    sub = c
    if (closed) drop()
    else await c.subscribe(channel, listener)
    return c
  }

  let looping = false
  const again = async () => {
    if (looping) return
    looping = true
    try {
      while (!closed) {
        try {
          const c = await subscribe()
          if (closed) return
          resyncs++
          await resync()
          // Dropped again during the resync: subscribe (and resync) once more.
          if (sub === c && c.connected) {
            live = true
            return
          }
        } catch (e) {
          onError(e)
          drop()
          await Bun.sleep(retryMs)
        }
      }
    } finally {
      looping = false
    }
  }

  await subscribe()
  live = true

  return {
    async publish(kind, id) {
      const message = JSON.stringify({ kind: checkKind(kind), id: String(id), node: opts.nodeId })
      await redis.send('PUBLISH', [channel, message])
    },
    on(kind, handler) {
      const list = handlers.get(checkKind(kind)) ?? []
      list.push(handler)
      handlers.set(kind, list)
    },
    onResync(handler) {
      resyncers.push(handler)
    },
    onLost(handler) {
      losers.push(handler)
    },
    get live() {
      return live && !!sub?.connected
    },
    get resyncs() {
      return resyncs
    },
    close() {
      closed = true
      live = false
      drop()
    },
  }
}
