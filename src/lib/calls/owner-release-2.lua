--[[
  Forgets a call's owner (the call ended). With an instanceId, only when that instance still owns
  it (a stale instance must not erase the new owner's lease).

    Input:
      KEYS[1] owner leases  zset
      KEYS[2] owners        hash

      ARGV[1] callId
      ARGV[2] instanceId, or "" for whoever owns it

    Output:
      1 when released, 0 when another instance owns the call
]]
local rcall = redis.call
if ARGV[2] ~= "" and rcall("HGET", KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
rcall("ZREM", KEYS[1], ARGV[1])
rcall("HDEL", KEYS[2], ARGV[1])
return 1
