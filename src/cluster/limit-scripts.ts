// The Lua scripts behind shared limits and money (SPEC §5, §11): one checks and reserves a call's
// money hold, every window and every concurrency slot, all or nothing; one settles or releases it
// afterwards; one renews a long call's slot leases.
import { defineScript } from './redis'

/**
 * KEYS: for each window group g (a scope's minute, hour or day counts) its current and previous
 * bucket hashes {r = requests, t = tokens}, then one sorted set per concurrency cap, then (when
 * M = 1) the account's money counter (integer nano-USD available: balance − open holds), this
 * node's open-holds hash (books.ts: callId → "accountId:holdNano") and the account's listed sum.
 * ARGV: nowMs, G, C, estTokens, callId, leaseMs, M; per group: requestLimit, tokenLimit,
 * bucketStartMs, spanMs, sliding (1: weigh the previous bucket, 0: a calendar day), ttlMs;
 * per cap: its limit; when M = 1: holdNano, minNano, quietMs (0: none; else the counter lives
 * that long after its last admission or settlement, see holds.ts), accountId.
 * A sliding window counts current + previous × (the part of the previous bucket still inside
 * the span). A call costs 1 request and max(1, min(est, limit)) tokens against each limit, and
 * writes 1 request and est tokens. Money is held only while some is free and at least minNano
 * stays. Nothing is written unless everything passes, in the single-node order: money, slots,
 * windows.
 * Returns {1, moneyLeft, usedR1, usedT1, …} (counts after the write, rounded up) or a denial:
 * {0, 'miss'} (no money counter: seed it), {0, 'm', free}, {0, 'c', capIndex, cap, inFlight,
 * retryMs} or {0, 'w', group, field (1 r, 2 t), limit, used, retryMs} (the window that frees
 * last, so the call cannot pass before then).
 */
export const RESERVE = defineScript(`
local now = tonumber(ARGV[1])
local G = tonumber(ARGV[2])
local C = tonumber(ARGV[3])
local est = tonumber(ARGV[4])
local call = ARGV[5]
local lease = tonumber(ARGV[6])
local M = tonumber(ARGV[7])
local capBase = 7 + 6 * G
local moneyKey = KEYS[2 * G + C + 1]
local hold = 0
if M == 1 then
  local v = redis.call('GET', moneyKey)
  if not v then return {0, 'miss'} end
  local free = tonumber(v)
  hold = tonumber(ARGV[capBase + C + 1])
  if not (free > 0 and free - hold >= tonumber(ARGV[capBase + C + 2])) then return {0, 'm', v} end
end
for c = 1, C do
  local key = KEYS[2 * G + c]
  local cap = tonumber(ARGV[capBase + c])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local n = redis.call('ZCARD', key)
  if n >= cap then return {0, 'c', c, cap, n, 1000} end
end
local worst = nil
local counts = {}
local raw = {}
for g = 1, G do
  local o = 7 + 6 * (g - 1)
  local limits = {tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])}
  local start = tonumber(ARGV[o + 3])
  local span = tonumber(ARGV[o + 4])
  local sliding = ARGV[o + 5] == '1'
  local cur = redis.call('HMGET', KEYS[2 * g - 1], 'r', 't')
  local prev = {false, false}
  local w = 0
  if sliding then
    prev = redis.call('HMGET', KEYS[2 * g], 'r', 't')
    w = 1 - (now - start) / span
    if w < 0 then w = 0 end
    if w > 1 then w = 1 end
  end
  for f = 1, 2 do
    local c = tonumber(cur[f]) or 0
    local p = tonumber(prev[f]) or 0
    local n = c + p * w
    counts[2 * g - 2 + f] = n
    raw[2 * g - 2 + f] = c
    local limit = limits[f]
    if limit > 0 then
      local cost = 1
      if f == 2 then cost = math.max(1, math.min(est, limit)) end
      if n + cost > limit then
        local wait
        if not sliding then
          wait = start + span - now
        elseif c + cost > limit then
          -- Past this bucket's end, c is the previous bucket and fades out over one span.
          wait = start + span - now + math.ceil(span * (1 - (limit - cost) / c))
        else
          wait = math.ceil(span * (1 - (limit - cost - c) / p)) - (now - start)
        end
        if wait < 1 then wait = 1 end
        if not worst or wait > worst[7] then
          worst = {0, 'w', g, f, limit, math.ceil(n), wait}
        end
      end
    end
  end
end
if worst then return worst end
local out = {1, 0}
if M == 1 then
  out[2] = redis.call('DECRBY', moneyKey, ARGV[capBase + C + 1])
  local quiet = tonumber(ARGV[capBase + C + 3]) or 0
  if quiet > 0 then redis.call('PEXPIRE', moneyKey, quiet) end
  redis.call('HSET', KEYS[2 * G + C + 2], call, ARGV[capBase + C + 4] .. ':' .. ARGV[capBase + C + 1])
  if hold > 0 then redis.call('INCRBY', KEYS[2 * G + C + 3], ARGV[capBase + C + 1]) end
end
for g = 1, G do
  local key = KEYS[2 * g - 1]
  -- The counts were read above and nothing else runs meanwhile: one HSET writes both.
  local r = string.format('%d', raw[2 * g - 1] + 1)
  if est > 0 then redis.call('HSET', key, 'r', r, 't', string.format('%d', raw[2 * g] + est))
  else redis.call('HSET', key, 'r', r) end
  -- Only a reservation creates a bucket (settling never does): its first request sets the TTL.
  if raw[2 * g - 1] == 0 and raw[2 * g] == 0 then redis.call('PEXPIRE', key, ARGV[7 + 6 * g]) end
  out[2 * g + 1] = math.ceil(counts[2 * g - 1] + 1)
  out[2 * g + 2] = math.ceil(counts[2 * g] + est)
end
for c = 1, C do
  local key = KEYS[2 * G + c]
  redis.call('ZADD', key, now + lease, call)
  if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
end
return out
`)

/**
 * Settles many calls in one script (batch.ts gathers those that end together). ARGV: quietMs, n;
 * then per call: nBuckets, requestDelta, tokenDelta, callId, nSlots, hasMoney, holdNano, costNano,
 * listedCostNano (0 when its charge is already in the database), accountId. KEYS: per call in turn
 * its bucket hashes, its slot sets, then when hasMoney = 1 its money counter, its node's
 * open-holds, unflushed-costs and reaped-holds hashes, and the account's listed sum (books.ts).
 * A call with money settles once: only while its open hold is listed (a retry after a reply that
 * was lost changes nothing). If its node was taken for dead meanwhile, its hold was given back
 * then, so only the cost is taken. Its listed cost stays until its node has written it to the
 * database. A bucket that has expired stays gone (its window no longer counts it); counts never go
 * below zero. Slots lose the call's id. The money counter moves only if present (absent, the
 * database is the truth the next seed reads) and lives quietMs more.
 */
export const SETTLE = defineScript(`
local quiet = tonumber(ARGV[1])
local a = 3
local k = 1
for e = 1, tonumber(ARGV[2]) do
  local nb = tonumber(ARGV[a])
  local dr = tonumber(ARGV[a + 1])
  local dt = tonumber(ARGV[a + 2])
  local call = ARGV[a + 3]
  local ns = tonumber(ARGV[a + 4])
  local nm = tonumber(ARGV[a + 5])
  local hold = tonumber(ARGV[a + 6])
  local cost = tonumber(ARGV[a + 7])
  local list = ARGV[a + 8]
  local acct = ARGV[a + 9]
  a = a + 10
  local m = k + nb + ns
  local live = true
  local reaped = false
  if nm == 1 and redis.call('HDEL', KEYS[m + 1], call) == 0 then
    reaped = redis.call('HDEL', KEYS[m + 3], call) == 1
    live = reaped
  end
  if live then
    for i = k, k + nb - 1 do
      local key = KEYS[i]
      if redis.call('EXISTS', key) == 1 then
        if dr ~= 0 and redis.call('HINCRBY', key, 'r', dr) < 0 then redis.call('HSET', key, 'r', 0) end
        if dt ~= 0 and redis.call('HINCRBY', key, 't', dt) < 0 then redis.call('HSET', key, 't', 0) end
      end
    end
    for i = k + nb, m - 1 do redis.call('ZREM', KEYS[i], call) end
    if nm == 1 then
      local money = KEYS[m]
      local give = hold - cost
      if reaped then give = -cost end
      if redis.call('EXISTS', money) == 1 then
        if give ~= 0 then redis.call('INCRBY', money, string.format('%d', give)) end
        if quiet > 0 then redis.call('PEXPIRE', money, quiet) end
      end
      -- The listed sum loses the open hold (the reaper took it off already) and gains the cost.
      local dl = tonumber(list)
      if not reaped then dl = dl - hold end
      if dl ~= 0 and redis.call('INCRBY', KEYS[m + 4], string.format('%d', dl)) <= 0 then redis.call('DEL', KEYS[m + 4]) end
      if list ~= '0' then redis.call('HSET', KEYS[m + 2], call, acct .. ':' .. list) end
    end
  end
  k = m
  if nm == 1 then k = k + 5 end
end
return 1
`)

/**
 * KEYS: a call's slot sets. ARGV: leaseUntilMs, callId, leaseMs. Moves the call's score in each
 * set where it is still a member, keeping the set alive as long. Returns 1, or 0 when the call had
 * lost a slot (its lease ran out: its node was taken for dead).
 */
export const RENEW = defineScript(`
local all = 1
local now = tonumber(ARGV[1]) - tonumber(ARGV[3])
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if redis.call('ZADD', KEYS[i], 'XX', 'CH', ARGV[1], ARGV[2]) == 0 and not redis.call('ZSCORE', KEYS[i], ARGV[2]) then
    all = 0
  elseif redis.call('PTTL', KEYS[i]) < tonumber(ARGV[3]) then
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  end
end
return all
`)
