--[[
  Undoes an acquire for a call that never started (its offer failed after admission): frees the
  slot and takes the admission back out of the rate window, so a failed attempt costs the tenant
  nothing. Idempotent. A call that did start is released with capacity-release-2 instead, which
  keeps the admission counted.

    Input:
      KEYS[1] global leases       zset  member callId, score lease expiry ms
      KEYS[2] tenant leases       zset  member callId, score lease expiry ms
      KEYS[3] tenant admissions   zset  member callId, score admission time ms

      ARGV[1] callId

    Output:
      1  the call held a lease or an admission
      0  it held neither
]]
local rcall = redis.call
local callId = ARGV[1]
local removed = rcall("ZREM", KEYS[1], callId) + rcall("ZREM", KEYS[2], callId) + rcall("ZREM", KEYS[3], callId)
if removed > 0 then return 1 end
return 0
