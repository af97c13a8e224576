--[[
  Frees a call's slot. Idempotent. Admissions stay in the rate window on purpose: the rate cap
  counts calls started, not calls in flight.

    Input:
      KEYS[1] global leases   zset  member callId, score lease expiry ms
      KEYS[2] tenant leases   zset  member callId, score lease expiry ms

      ARGV[1] callId

    Output:
      1  the call held an unexpired lease
      0  it did not (already released, expired, or never admitted)
]]
local rcall = redis.call
local callId = ARGV[1]

local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local score = rcall("ZSCORE", KEYS[2], callId)
rcall("ZREM", KEYS[1], callId)
rcall("ZREM", KEYS[2], callId)
if score and tonumber(score) > now then return 1 end
return 0
