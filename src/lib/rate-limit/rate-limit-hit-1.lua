--[[
  Counts one hit against a sliding-window limit, or refuses it. Only admitted hits are stored, so
  a key never holds more than `limit` members however hard a client pushes. Time comes from the
  Redis server so every instance agrees on the window.

    Input:
      KEYS[1] hits   zset  member hit id, score hit time ms

      ARGV[1] limit (hits per window)
      ARGV[2] window ms
      ARGV[3] hit id (unique per hit)

    Output:
      { 1, hits left in the window }   admitted
      { 0, ms until a hit is allowed } refused
]]
local rcall = redis.call
local limit = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])

local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- A hit leaves the window once its time is <= now - window.
rcall("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - windowMs)
local count = rcall("ZCARD", KEYS[1])
if count >= limit then
  local oldest = rcall("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
  local wait = 1
  if oldest[2] then wait = math.max(1, tonumber(oldest[2]) + windowMs - now) end
  return { 0, wait }
end
rcall("ZADD", KEYS[1], now, ARGV[3])
-- The newest hit is now, so the whole set is stale once the window has passed.
rcall("PEXPIRE", KEYS[1], windowMs)
return { 1, limit - count - 1 }
