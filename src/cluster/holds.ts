// Available money per account shared by every node (SPEC §11): one Redis counter of integer
// nano-USD (balance − open holds), taken down atomically by admission only while what stays is at
// least the minimum, given back by settlement, moved by admin money moves after they commit.
// A counter that is absent is a miss: the caller seeds it from the database's balance less what
// every node lists for the account (its open holds and unwritten costs, books.ts) and retries.
// Every change to an account's counter that is not a call's (seed, admin move, expiry, drop,
// correction) counts in the account's version, and an admin write lists itself as a move in
// progress from before its transaction until its counters have moved: a seed or a correction
// computed from the database is applied only if neither says the books moved meanwhile.
// A proxied call takes its hold inside limits.ts's reserve script (one script for both); these
// standalone calls serve seeding, admin moves and calls that reserve no limits.
import { defineScript, LUA_NOW, type Redis } from './redis'

/** A version lives this long after its last change: longer than any read-then-write between. */
export const VERSION_TTL_MS = 86_400_000
/** Lua `bump(key)`: counts a change in an account's version, which lives VERSION_TTL_MS from it. */
export const LUA_BUMP = `local function bump(k)
  redis.call('INCR', k)
  redis.call('PEXPIRE', k, ${VERSION_TTL_MS})
end`

export type AdmitResult =
  /** The hold is taken; `availableNano` is what the account has left free. */
  | { kind: 'held'; availableNano: number }
  /** Not enough: nothing was taken; `availableNano` is what is free now. */
  | { kind: 'short'; availableNano: number }
  /** No counter for the account: seed it from the database, then admit again. */
  | { kind: 'miss' }

export type SharedHolds = {
  admit(accountId: number, holdNano: number, minNano: number): Promise<AdmitResult>
  /**
   * Creates the counter as `balanceNano` less what is listed for the account unless it exists,
   * checking nothing else; true when this call set it. (Gateways seed with seedFromBooks; this
   * one sets up a counter where no database is read, as the tests and benchmarks do.)
   */
  seed(accountId: number, balanceNano: number): Promise<boolean>
  /** The account's version (a string; '0' before any change): read before reading the database. */
  version(accountId: number): Promise<string>
  /**
   * Seeds from a balance read from the database after `version` was read: 'changed' (nothing set)
   * when the account's books moved meanwhile or an admin write is moving money.
   */
  seedFromBooks(accountId: number, balanceNano: number, version: string): Promise<'set' | 'exists' | 'changed'>
  /** The call ended costing `costNano`: gives back `holdNano − costNano`. False on a miss. */
  settle(accountId: number, holdNano: number, costNano: number): Promise<boolean>
  /** A card expired (or a move outside an admin write): moves the counter by `deltaNano` if present. */
  adjust(accountId: number, deltaNano: number): Promise<boolean>
  /**
   * An admin write is about to commit: listed as a move in progress (for MOVE_GUARD_MS at most)
   * until `moved` is called with the token.
   */
  beginMove(): Promise<string>
  /** The admin write committed (or failed: no deltas): its counters move and it is no longer in progress. */
  moved(token: string, deltas: ReadonlyMap<number, number>): Promise<void>
  /** The counter's value, or null when absent. */
  available(accountId: number): Promise<number | null>
  /** Drops the counter (a deleted account, or a reconcile): the next admission seeds it afresh. */
  forget(accountId: number): Promise<void>
}

/**
 * KEYS[1]: the counter. ARGV: holdNano, minNano. Takes the hold only if the account has money
 * free and keeps at least minNano after it (the in-memory rule of wallet/holds.ts).
 * Returns {1, left}, {0, free} or {-1} (absent).
 */
const ADMIT = defineScript(`
local v = redis.call('GET', KEYS[1])
if not v then return {-1} end
local free = tonumber(v)
local hold = tonumber(ARGV[1])
if free > 0 and free - hold >= tonumber(ARGV[2]) then
  return {1, redis.call('DECRBY', KEYS[1], ARGV[1])}
end
return {0, free}
`)

/**
 * KEYS: the counter, its version. ARGV[1]: delta. INCRBY only if the counter exists; returns the
 * value, or false when absent. A result beyond ±(2^53 − 1) is undone and refused: JavaScript could not hold it.
 */
const MOVE = defineScript(`${LUA_BUMP}
-- Counted even with no counter: a seed reading the database meanwhile must not apply.
bump(KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if v > 9007199254740991 or v < -9007199254740991 then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return redis.error_reply('ERR counter would leave the safe integer range')
end
return v
`)


/**
 * KEYS: the counter, the account's listed sum, its version, moves in progress. ARGV: balanceNano,
 * ttlMs (0: none), version ('' : unchecked), guardMs. Sets the counter to the balance less what is
 * listed unless it exists: 1 set, 0 exists, -1 the version moved or an admin write is moving money.
 */
const SEED = defineScript(`${LUA_NOW}
${LUA_BUMP}
if ARGV[3] ~= '' then
  if redis.call('ZCOUNT', KEYS[4], now - tonumber(ARGV[4]), '+inf') > 0 then return -1 end
  if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[3] then return -1 end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local v = string.format('%d', tonumber(ARGV[1]) - (tonumber(redis.call('GET', KEYS[2])) or 0))
if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
else redis.call('SET', KEYS[1], v) end
bump(KEYS[3])
return 1
`)

/** KEYS: the counter, its version. */
const DROP = defineScript(`${LUA_BUMP}
redis.call('DEL', KEYS[1])
bump(KEYS[2])
return 1
`)

/** KEYS: moves in progress. ARGV: token, guardMs. Lists the move (older ones than the guard go). */
const BEGIN = defineScript(`${LUA_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[1])
return 1
`)

/**
 * KEYS: moves in progress, then per delta the counter and its version. ARGV: token, guardMs, then
 * the deltas. Moves each counter that exists (never beyond safe integers: such a counter is
 * dropped, to be made again from the books), counts in each version and ends the move. A move no
 * longer listed as in progress (it outlasted the guard, so a correction may have counted it
 * already) drops its counters instead. Returns 1, or 0 when it dropped them.
 */
const MOVED = defineScript(`${LUA_NOW}
${LUA_BUMP}
local listed = redis.call('ZSCORE', KEYS[1], ARGV[1])
local fresh = listed and tonumber(listed) >= now - tonumber(ARGV[2])
for i = 2, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if fresh then
      local v = redis.call('INCRBY', KEYS[i], ARGV[i / 2 + 2])
      if v > 9007199254740991 or v < -9007199254740991 then redis.call('DEL', KEYS[i]) end
    else
      redis.call('DEL', KEYS[i])
    end
  end
  bump(KEYS[i + 1])
end
redis.call('ZREM', KEYS[1], ARGV[1])
if fresh then return 1 end
return 0
`)

/** How long an admin write counts as a move in progress at most (one whose end was lost). */
export const MOVE_GUARD_MS = 60_000

/** A nano-USD amount that INCRBY/DECRBY and a JavaScript number both hold exactly. */
export function nano(name: string, v: number, opts: { min?: number } = {}): string {
  if (!Number.isSafeInteger(v)) {
    throw new RangeError(`${name} must be a whole number of nano-USD within ±2^53, got ${v}`)
  }
  if (opts.min !== undefined && v < opts.min) {
    throw new RangeError(`${name} must be at least ${opts.min}, got ${v}`)
  }
  return String(v)
}

/** A counter read back from Redis; one beyond safe integers means the books went wrong. */
function safe(v: unknown, what: string): number {
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what}: counter ${v} is not a safe integer`)
  return n
}

/** `{prefix}m:{accountId}`: the account's available nano-USD. */
export function moneyKey(prefix: string, id: number): string {
  return `${prefix}m:${accountId(id)}`
}

/** `{prefix}l:{accountId}`: the sum of what every node lists for the account (open holds + unwritten costs). */
export const listedKey = (prefix: string, id: number) => `${prefix}l:${accountId(id)}`
/** `{prefix}v:{accountId}`: counts the changes to the account's counter that are not a call's. */
export const versionKey = (prefix: string, id: number) => `${prefix}v:${accountId(id)}`

/** The keys of the books' state beside the counters (books.ts reads them all). */
export const booksKeys = (prefix: string) => ({
  /** Admin writes between their transaction's start and their counters' move. */
  moving: `${prefix}mmoving`,
  /** The processes that list open holds and unflushed costs (each with a heartbeat). */
  nodes: `${prefix}nodes`,
  /** Processes taken for dead, by when: their unwritten costs stay listed a while (books.ts). */
  reaped: `${prefix}reaped`,
})

/** `{prefix}o:{instance}`: a process's open holds, callId → "accountId:holdNano". */
export const openHoldsKey = (prefix: string, instance: string) => `${prefix}o:${instance}`
/** `{prefix}u:{instance}`: a process's settled costs not yet in the database, callId → "accountId:costNano". */
export const unflushedKey = (prefix: string, instance: string) => `${prefix}u:${instance}`
/**
 * `{prefix}r:{instance}`: the open holds of a process taken for dead, already given back: if it
 * was only cut off, its late settlement charges the cost alone (callId → "accountId:holdNano").
 */
export const reapedKey = (prefix: string, instance: string) => `${prefix}r:${instance}`

function accountId(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new RangeError(`accountId must be a positive integer, got ${id}`)
  return String(id)
}

/**
 * `quietMs`: how long a counter lives after its last admission or settlement (limits.ts). Every
 * call settles before it, so when it passes no call is open anywhere, but for those of a node
 * that died: dropping the counter gives their holds back, and the next admission makes it again
 * from the books (the database's balance, expired cards out). 0 or absent: counters are kept.
 */
export function createSharedHolds(opts: { redis: Redis; quietMs?: number }): SharedHolds {
  const { redis } = opts
  const p = redis.prefix
  const key = (id: number) => moneyKey(p, id)
  const books = booksKeys(p)
  const quiet = String(Math.max(0, Math.floor(opts.quietMs ?? 0)))
  const seedKeys = (id: number) => [key(id), listedKey(p, id), versionKey(p, id), books.moving]

  const move = async (id: number, delta: number, what: string): Promise<boolean> => {
    const k = key(id)
    const d = nano(what, delta)
    if (delta === 0) return (await redis.send('EXISTS', [k])) === 1
    const v = await redis.run(MOVE, [k, versionKey(p, id)], [d])
    if (v === null || v === false) return false
    safe(v, `account ${id}`)
    return true
  }

  return {
    async admit(id, holdNano, minNano) {
      const k = key(id)
      const reply = (await redis.run(
        ADMIT,
        [k],
        [nano('holdNano', holdNano, { min: 0 }), nano('minNano', minNano)],
      )) as number[]
      if (reply[0] === -1) return { kind: 'miss' }
      const availableNano = safe(reply[1], `account ${id}`)
      return reply[0] === 1 ? { kind: 'held', availableNano } : { kind: 'short', availableNano }
    },
    async seed(id, balanceNano) {
      const args = [nano('balanceNano', balanceNano), quiet, '', String(MOVE_GUARD_MS)]
      return (await redis.run(SEED, seedKeys(id), args)) === 1
    },
    async version(id) {
      return String((await redis.send('GET', [versionKey(p, id)])) ?? '0')
    },
    async seedFromBooks(id, balanceNano, version) {
      const args = [nano('balanceNano', balanceNano), quiet, version || '0', String(MOVE_GUARD_MS)]
      const r = await redis.run(SEED, seedKeys(id), args)
      return r === 1 ? 'set' : r === 0 ? 'exists' : 'changed'
    },
    async settle(id, holdNano, costNano) {
      nano('holdNano', holdNano, { min: 0 })
      nano('costNano', costNano, { min: 0 })
      return move(id, holdNano - costNano, 'holdNano − costNano')
    },
    adjust: (id, deltaNano) => move(id, deltaNano, 'deltaNano'),
    async beginMove() {
      const token = crypto.randomUUID()
      await redis.run(BEGIN, [books.moving], [token, String(MOVE_GUARD_MS)])
      return token
    },
    async moved(token, deltas) {
      const keys = [books.moving]
      const args = [token, String(MOVE_GUARD_MS)]
      for (const [id, delta] of deltas) {
        if (delta === 0) continue
        keys.push(key(id), versionKey(p, id))
        args.push(nano('deltaNano', delta))
      }
      await redis.run(MOVED, keys, args)
    },
    async available(id) {
      const v = await redis.send('GET', [key(id)])
      return v === null ? null : safe(v, `account ${id}`)
    },
    async forget(id) {
      await redis.run(DROP, [key(id), versionKey(p, id)], [])
    },
  }
}
