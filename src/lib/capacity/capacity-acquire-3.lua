--[[
  Admits a call under the global and tenant concurrency caps and the tenant's sliding-window rate
  cap, or refreshes its lease when the call already holds one (idempotent retry of the same call).

  Leases are zset members whose score is their expiry, so slots of a crashed instance free
  themselves; expired members are pruned here. Time comes from the Redis server so every instance
  agrees on it (needs Redis >= 5, where scripts replicate effects and may call TIME before writing).

    Input:
      KEYS[1] global leases       zset  member callId, score lease expiry ms
      KEYS[2] tenant leases       zset  member callId, score lease expiry ms
      KEYS[3] tenant admissions   zset  member callId, score admission time ms

      ARGV[1] callId
      ARGV[2] global max concurrent calls
      ARGV[3] tenant max concurrent calls
      ARGV[4] tenant max admissions per window
      ARGV[5] lease ms
      ARGV[6] window ms

    Output:
       1  admitted
       2  already held: lease refreshed, not counted again
      -1  denied: global concurrency
      -2  denied: tenant concurrency
      -3  denied: tenant rate
]]
local rcall = redis.call
local callId = ARGV[1]
local globalMax = tonumber(ARGV[2])
local tenantMax = tonumber(ARGV[3])
local rateMax = tonumber(ARGV[4])
local leaseMs = tonumber(ARGV[5])
local windowMs = tonumber(ARGV[6])

local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiry = now + leaseMs

-- A lease key lives exactly as long as its longest lease, so idle tenants leave nothing behind.
local function expireWithLastLease(key)
  local last = rcall("ZRANGE", key, -1, -1, "WITHSCORES")
  if last[2] then rcall("PEXPIREAT", key, math.floor(tonumber(last[2]))) end
end

-- A lease is expired once its expiry <= now; an admission leaves the window once it is <= now - window.
rcall("ZREMRANGEBYSCORE", KEYS[1], "-inf", now)
rcall("ZREMRANGEBYSCORE", KEYS[2], "-inf", now)
rcall("ZREMRANGEBYSCORE", KEYS[3], "-inf", now - windowMs)

if rcall("ZSCORE", KEYS[2], callId) then
  rcall("ZADD", KEYS[1], expiry, callId)
  rcall("ZADD", KEYS[2], expiry, callId)
  expireWithLastLease(KEYS[1])
  expireWithLastLease(KEYS[2])
  return 2
end

if rcall("ZCARD", KEYS[1]) >= globalMax then return -1 end
if rcall("ZCARD", KEYS[2]) >= tenantMax then return -2 end
-- A call whose lease lapsed but which was admitted inside the window is the same attempt: no new rate.
local admitted = rcall("ZSCORE", KEYS[3], callId)
if not admitted and rcall("ZCARD", KEYS[3]) >= rateMax then return -3 end

rcall("ZADD", KEYS[1], expiry, callId)
rcall("ZADD", KEYS[2], expiry, callId)
expireWithLastLease(KEYS[1])
expireWithLastLease(KEYS[2])
if not admitted then
  rcall("ZADD", KEYS[3], now, callId)
  -- The newest admission is now, so the whole set is stale once the window has passed.
  rcall("PEXPIRE", KEYS[3], windowMs)
end
return 1
