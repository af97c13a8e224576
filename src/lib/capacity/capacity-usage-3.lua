--[[
  Counts live leases and admissions in the window, ignoring expired members that were not pruned
  yet. Read-only.

    Input:
      KEYS[1] global leases       zset  member callId, score lease expiry ms
      KEYS[2] tenant leases       zset  member callId, score lease expiry ms
      KEYS[3] tenant admissions   zset  member callId, score admission time ms

      ARGV[1] window ms

    Output:
      { global live leases, tenant live leases, tenant admissions in window }
]]
local rcall = redis.call
local windowMs = tonumber(ARGV[1])

local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

return {
  rcall("ZCOUNT", KEYS[1], "(" .. now, "+inf"),
  rcall("ZCOUNT", KEYS[2], "(" .. now, "+inf"),
  rcall("ZCOUNT", KEYS[3], "(" .. (now - windowMs), "+inf"),
}
