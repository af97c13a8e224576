--[[
  Extends an instance's leases on its live calls. A call another instance owns now (its stream
  moved), or that another instance has claimed, or that is no longer tracked, is not touched and is
  reported, so the caller can let it go. A claim this instance's own sweep made on one of its calls
  (its lease lapsed while Redis was unreachable) is turned back into plain ownership.

    Input:
      KEYS[1] owner leases  zset  member callId, score lease expiry ms
      KEYS[2] owners        hash  callId -> instanceId

      ARGV[1]    instanceId
      ARGV[2]    lease ms
      ARGV[3..n] callIds

    Output:
      array of the callIds this instance no longer owns
]]
local rcall = redis.call
local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiry = now + tonumber(ARGV[2])
local lost = {}
for i = 3, #ARGV do
  local callId = ARGV[i]
  local owner = rcall("HGET", KEYS[2], callId)
  if owner == "~" .. ARGV[1] then
    rcall("HSET", KEYS[2], callId, ARGV[1])
    owner = ARGV[1]
  end
  if owner == ARGV[1] then
    rcall("ZADD", KEYS[1], expiry, callId)
  else
    lost[#lost + 1] = callId
  end
end
return lost
