--[[
  Extends the leases of calls of one tenant. Never resurrects: a call whose lease was released or
  has expired (even if not pruned yet, since its slot may already have been handed out) is removed
  and reported, so the caller stops tracking it.

    Input:
      KEYS[1] global leases   zset  member callId, score lease expiry ms
      KEYS[2] tenant leases   zset  member callId, score lease expiry ms

      ARGV[1]    lease ms
      ARGV[2..n] callIds

    Output:
      array of the callIds that no longer hold a lease
]]
local rcall = redis.call
local leaseMs = tonumber(ARGV[1])

local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiry = now + leaseMs

local function expireWithLastLease(key)
  local last = rcall("ZRANGE", key, -1, -1, "WITHSCORES")
  if last[2] then rcall("PEXPIREAT", key, math.floor(tonumber(last[2]))) end
end

local function live(score)
  return score and tonumber(score) > now
end

local gone = {}
for i = 2, #ARGV do
  local callId = ARGV[i]
  if live(rcall("ZSCORE", KEYS[2], callId)) and live(rcall("ZSCORE", KEYS[1], callId)) then
    -- XX: only ever update an existing member.
    rcall("ZADD", KEYS[1], "XX", expiry, callId)
    rcall("ZADD", KEYS[2], "XX", expiry, callId)
  else
    rcall("ZREM", KEYS[1], callId)
    rcall("ZREM", KEYS[2], callId)
    gone[#gone + 1] = callId
  end
end

expireWithLastLease(KEYS[1])
expireWithLastLease(KEYS[2])
return gone
