--[[
  Makes an instance the owner of a live call (it holds the call's media stream now).

    Input:
      KEYS[1] owner leases  zset  member callId, score lease expiry ms (Redis clock)
      KEYS[2] owners        hash  callId -> instanceId ("~instanceId" while a takeover is claimed)

      ARGV[1] callId
      ARGV[2] instanceId
      ARGV[3] lease ms

    Output:
      the previous owner ("" when none)
]]
local rcall = redis.call
local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local previous = rcall("HGET", KEYS[2], ARGV[1]) or ""
rcall("HSET", KEYS[2], ARGV[1], ARGV[2])
rcall("ZADD", KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return previous
