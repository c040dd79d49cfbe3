// The Redis connection of a node (SPEC §11): Bun's RedisClient with no offline queue and a
// command timeout, so a dead or stuck Redis fails a call fast instead of holding it; Lua scripts
// run by SHA (EVALSHA, EVAL once on NOSCRIPT); pub/sub on clients of its own.
import { RedisClient } from 'bun'

/** Redis did not answer (down, unreachable, or slower than the command timeout). */
export class RedisUnavailableError extends Error {
  readonly code = 'redis_unavailable'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RedisUnavailableError'
  }
}

/** A Lua script known by its SHA-1, computed here so the first call needs no SCRIPT LOAD. */
export type Script = { readonly source: string; readonly sha: string }

/** Lua that sets `now` to Redis's own clock in ms: every node's time checks read one clock. */
export const LUA_NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

export function defineScript(source: string): Script {
  const sha = new Bun.CryptoHasher('sha1').update(source).digest('hex')
  return { source, sha }
}

export type RedisOptions = {
  url: string
  /** Longest wait for any one command before it fails with RedisUnavailableError. */
  commandTimeoutMs?: number
  /** Longest wait for a (re)connection. */
  connectTimeoutMs?: number
  /** Prefix of every key and channel xgate uses, so one Redis can serve several deployments. */
  prefix?: string
}

export type Redis = {
  readonly prefix: string
  readonly commandTimeoutMs: number
  /** Whether the hot-path connection is up right now. */
  readonly connected: boolean
  send(command: string, args: readonly string[]): Promise<unknown>
  /** Runs a script by SHA; loads it with EVAL when this Redis does not know it (a restart). */
  run(script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown>
  /**
   * A new connected client for SUBSCRIBE (a subscribing client stops pipelining). It does not
   * reconnect by itself: its owner sees `onclose` and subscribes again on a new one.
   */
  subscriber(): Promise<RedisClient>
  close(): void
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 250
export const DEFAULT_CONNECT_TIMEOUT_MS = 1_000

const unavailable = (e: unknown, what: string) =>
  e instanceof RedisUnavailableError
    ? e
    : new RedisUnavailableError(`Redis unavailable (${what}): ${(e as Error)?.message ?? e}`, {
        cause: e,
      })

/** Server errors (a script's error, a wrong type) are answers; anything else means no answer. */
const isServerError = (e: unknown) => (e as { code?: string })?.code === 'ERR_REDIS_SERVER_ERROR'

export function newClient(
  url: string,
  connectTimeoutMs: number,
  autoReconnect = true,
): RedisClient {
  return new RedisClient(url, {
    enableOfflineQueue: false,
    connectionTimeout: connectTimeoutMs,
    autoReconnect,
    maxRetries: autoReconnect ? 1_000_000 : 0,
  })
}

/**
 * Connects once (failing if Redis is not there), then keeps one pipelined client. A command that
 * times out drops that connection — the commands still queued behind it fail at once rather than
 * run late — and the next command starts a new one; while it connects, commands fail fast.
 */
export async function openRedis(opts: RedisOptions): Promise<Redis> {
  const commandTimeoutMs = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  let client = newClient(opts.url, connectTimeoutMs)
  let connecting: Promise<void> | null = null
  let closed = false

  const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailableError(`Redis: ${what} took over ${ms} ms`)),
        ms,
      )
    })
    return Promise.race([p, late]).finally(() => clearTimeout(timer))
  }

  const reconnect = () => {
    if (closed || connecting) return
    const c = client
    connecting = c
      .connect()
      .catch(() => {})
      .finally(() => {
        connecting = null
      })
  }

  /** A stuck connection is replaced, so what queued behind a lost reply does not run later. */
  const replace = () => {
    if (closed) return
    const old = client
    client = newClient(opts.url, connectTimeoutMs)
    old.close()
    reconnect()
  }

  try {
    await withTimeout(client.connect(), connectTimeoutMs, 'connect')
  } catch (e) {
    client.close()
    throw unavailable(e, opts.url.replace(/\/\/[^@]*@/, '//'))
  }

  /**
   * Commands waiting for their reply. One sweep timer (running only while some wait) fails those
   * past the command timeout, instead of a timer per command: the hot path sends two a call.
   */
  type Waiting = { deadline: number; c: RedisClient; command: string; fail: (e: Error) => void }
  const waiting = new Set<Waiting>()
  let sweeper: ReturnType<typeof setInterval> | null = null
  const sweep = () => {
    const now = Date.now()
    for (const w of waiting) {
      if (w.deadline > now) continue
      waiting.delete(w)
      if (w.c === client) replace()
      w.fail(new RedisUnavailableError(`Redis: ${w.command} took over ${commandTimeoutMs} ms`))
    }
    if (waiting.size === 0 && sweeper) {
      clearInterval(sweeper)
      sweeper = null
    }
  }
  const sweepEveryMs = Math.max(5, Math.floor(commandTimeoutMs / 5))

  const send = (command: string, args: readonly string[]): Promise<unknown> => {
    if (closed) return Promise.reject(new RedisUnavailableError('Redis client closed'))
    const c = client
    if (!c.connected) reconnect()
    return new Promise((resolve, reject) => {
      const w: Waiting = { deadline: Date.now() + commandTimeoutMs, c, command, fail: reject }
      waiting.add(w)
      sweeper ??= setInterval(sweep, sweepEveryMs)
      c.send(command, args as string[]).then(
        (v) => {
          if (waiting.delete(w)) resolve(v)
        },
        (e) => {
          if (!waiting.delete(w)) return
          reject(isServerError(e) ? e : unavailable(e, command))
        },
      )
    })
  }

  return {
    prefix: opts.prefix ?? 'xg:',
    commandTimeoutMs,
    get connected() {
      return client.connected
    },
    send,
    run(script, keys, args) {
      // One array for the command (the hot path sends one a call): sha, key count, keys, args.
      const all = [script.sha, String(keys.length)]
      for (const k of keys) all.push(k)
      for (const a of args) all.push(a)
      return send('EVALSHA', all).catch((e) => {
        if (!isServerError(e) || !String((e as Error).message).includes('NOSCRIPT')) throw e
        all[0] = script.source
        return send('EVAL', all)
      })
    },
    async subscriber() {
      const c = newClient(opts.url, connectTimeoutMs, false)
      try {
        await withTimeout(c.connect(), connectTimeoutMs, 'connect')
      } catch (e) {
        c.close()
        throw unavailable(e, 'subscriber connect')
      }
      return c
    },
    close() {
      closed = true
      if (sweeper) clearInterval(sweeper)
      for (const w of waiting) w.fail(new RedisUnavailableError('Redis client closed'))
      waiting.clear()
      client.close()
    },
  }
}
