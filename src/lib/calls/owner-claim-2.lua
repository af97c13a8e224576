--[[
  Claims calls whose owner stopped refreshing (crashed instance, or a takeover that did not
  complete): each claimed call gets a short claim lease in this instance's name ("~instanceId"), so
  exactly one instance re-points its stream; if the stream does not arrive anywhere before the claim
  lapses, the next sweep claims it again.

    Input:
      KEYS[1] owner leases  zset  member callId, score lease expiry ms
      KEYS[2] owners        hash  callId -> instanceId

      ARGV[1] instanceId
      ARGV[2] claim ms
      ARGV[3] most calls to claim

    Output:
      flat array: callId, previous owner, callId, previous owner, ...
]]
local rcall = redis.call
local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expired = rcall("ZRANGEBYSCORE", KEYS[1], "-inf", now, "LIMIT", 0, tonumber(ARGV[3]))
local out = {}
for _, callId in ipairs(expired) do
  local previous = rcall("HGET", KEYS[2], callId) or ""
  rcall("HSET", KEYS[2], callId, "~" .. ARGV[1])
  rcall("ZADD", KEYS[1], now + tonumber(ARGV[2]), callId)
  out[#out + 1] = callId
  out[#out + 1] = previous
end
return out
