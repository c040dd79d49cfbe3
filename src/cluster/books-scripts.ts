// The Lua scripts behind the shared money books (books.ts): reaping a process taken for dead,
// purging its lost usage, the reconciliation's snapshot and correction, written costs leaving the
// lists, listing again what Redis lost, and the heartbeat.
import { LUA_BUMP } from './holds'
import { defineScript, LUA_NOW } from './redis'

/**
 * KEYS: the process set, its heartbeat, its open holds, its reaped holds, the reaped processes.
 * ARGV: the process, the key prefix, how long reaped holds are remembered (ms). Only when the
 * heartbeat is gone: gives each open hold back to its account's counter and takes it off the
 * account's listed sum, remembers the holds (a process only cut off settles them late: then only
 * the cost is taken), and takes the process out of the set. Its unwritten costs stay listed
 * (only cut off, it writes them yet) until PURGE. Each account touched counts in its version.
 * Returns how many holds came back, or -1.
 */
export const REAP = defineScript(`${LUA_NOW}
${LUA_BUMP}
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end
local p = ARGV[2]
local n = 0
local open = redis.call('HGETALL', KEYS[3])
for i = 1, #open, 2 do
  local a, h = string.match(open[i + 1], '^(%d+):(%d+)$')
  if a then
    local m = p .. 'm:' .. a
    if redis.call('EXISTS', m) == 1 then redis.call('INCRBY', m, h) end
    if redis.call('DECRBY', p .. 'l:' .. a, h) <= 0 then redis.call('DEL', p .. 'l:' .. a) end
    bump(p .. 'v:' .. a)
    redis.call('HSET', KEYS[4], open[i], open[i + 1])
    n = n + 1
  end
end
if n > 0 then redis.call('PEXPIRE', KEYS[4], ARGV[3]) end
redis.call('DEL', KEYS[3])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[5], now, ARGV[1])
return n
`)

/**
 * KEYS: the process set, the reaped processes, the process's unwritten costs. ARGV: the process,
 * the key prefix, ttlMs. A process reaped longer ago than ttlMs and not back: its unwritten costs
 * are lost usage, owed by nobody; they leave the listed sums (each account's version moves).
 * A process that came back keeps its list. Returns how many costs went, or -1 (not yet, or back).
 */
export const PURGE = defineScript(`${LUA_NOW}
${LUA_BUMP}
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
local at = redis.call('ZSCORE', KEYS[2], ARGV[1])
if at and tonumber(at) > now - tonumber(ARGV[3]) then return -1 end
local p = ARGV[2]
local n = 0
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do
  local a, c = string.match(v, '^(%d+):(%d+)$')
  if a then
    if redis.call('DECRBY', p .. 'l:' .. a, c) <= 0 then redis.call('DEL', p .. 'l:' .. a) end
    bump(p .. 'v:' .. a)
    n = n + 1
  end
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
`)

/**
 * KEYS: moves in progress. ARGV: key prefix, guardMs, account ids. {0} while an admin write is
 * moving money; else {1, then per account: its counter ('' when absent), what is listed for it
 * (open holds + unwritten costs, on every node) and its version}.
 */
export const SNAPSHOT = defineScript(`${LUA_NOW}
if redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[2]), '+inf') > 0 then return {0} end
local out = {1}
for i = 3, #ARGV do
  out[#out + 1] = redis.call('GET', ARGV[1] .. 'm:' .. ARGV[i]) or ''
  out[#out + 1] = redis.call('GET', ARGV[1] .. 'l:' .. ARGV[i]) or '0'
  out[#out + 1] = redis.call('GET', ARGV[1] .. 'v:' .. ARGV[i]) or '0'
end
return out
`)

/**
 * KEYS: moves in progress. ARGV: key prefix, guardMs, then account id, correction and the version
 * the snapshot saw, per account. Each is applied only if nothing but calls moved that counter
 * since (calls move the counter and the listed sum together, so the difference stands), and counts
 * in its version, so a second pass on the same snapshot changes nothing. Returns how many.
 */
export const CORRECT = defineScript(`${LUA_NOW}
${LUA_BUMP}
if redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[2]), '+inf') > 0 then return 0 end
local n = 0
for i = 3, #ARGV, 3 do
  local m = ARGV[1] .. 'm:' .. ARGV[i]
  local v = ARGV[1] .. 'v:' .. ARGV[i]
  if (redis.call('GET', v) or '0') == ARGV[i + 2] and redis.call('EXISTS', m) == 1 then
    redis.call('INCRBY', m, ARGV[i + 1])
    bump(v)
    n = n + 1
  end
end
return n
`)

/**
 * KEYS: the process's unflushed costs. ARGV: key prefix, then request ids whose charges the
 * database now holds: each listed one leaves the list and the account's listed sum. Where the
 * account has no counter, a seed may be reading the database: its version moves, so a seed that
 * read the balance before this write and the listed sum after it is refused.
 */
export const WRITTEN = defineScript(`
${LUA_BUMP}
local p = ARGV[1]
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
-- One read and one delete for the whole batch; then one move per account.
local listed = redis.call('HMGET', KEYS[1], unpack(ids))
redis.call('HDEL', KEYS[1], unpack(ids))
local sums = {}
for i = 1, #ids do
  local v = listed[i]
  if v then
    local a, c = string.match(v, '^(%d+):(%d+)$')
    if a then sums[a] = (sums[a] or 0) + tonumber(c) end
  end
end
for a, c in pairs(sums) do
  if redis.call('DECRBY', p .. 'l:' .. a, string.format('%d', c)) <= 0 then redis.call('DEL', p .. 'l:' .. a) end
  if redis.call('EXISTS', p .. 'm:' .. a) == 0 then
    bump(p .. 'v:' .. a)
  end
end
return 1
`)

/**
 * KEYS: the process's open holds and unflushed costs. ARGV: key prefix, the number of open holds,
 * then callId, accountId, amount per open hold and then per unwritten cost. Lists again what Redis
 * lost (a restart) or what a reaper took (this process was taken for dead): each entry not listed
 * joins its list and its account's listed sum, and is taken off the account's counter if one was
 * made without it. Each account touched counts in its version. Returns how many were missing.
 */
export const RELIST = defineScript(`
${LUA_BUMP}
local p = ARGV[1]
local nOpen = tonumber(ARGV[2])
local n = 0
local e = 0
for i = 3, #ARGV, 3 do
  local list = KEYS[2]
  if e < nOpen then list = KEYS[1] end
  e = e + 1
  local a = ARGV[i + 1]
  if redis.call('HSETNX', list, ARGV[i], a .. ':' .. ARGV[i + 2]) == 1 then
    redis.call('INCRBY', p .. 'l:' .. a, ARGV[i + 2])
    if redis.call('EXISTS', p .. 'm:' .. a) == 1 then redis.call('DECRBY', p .. 'm:' .. a, ARGV[i + 2]) end
    bump(p .. 'v:' .. a)
    n = n + 1
  end
end
return n
`)

/** KEYS: the heartbeat, the process set. ARGV: the process, leaseMs. 1 when it was not in the set. */
export const BEAT = defineScript(`
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return redis.call('SADD', KEYS[2], ARGV[1])
`)
