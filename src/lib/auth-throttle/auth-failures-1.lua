--[[
  Reads, or counts one more, failed login of one client in a fixed window that starts at its
  first failure (so later guesses cannot keep pushing the window's end out).

    Input:
      KEYS[1] failures   string  failed attempts of this client in the current window

      ARGV[1] increment  0 = only read, 1 = count a failure
      ARGV[2] windowMs   window length, set when the first failure creates the key

    Output:
      { count, ttlMs }   failures in the window (0 when none) and the ms until it ends (0 when none)
]]
local rcall = redis.call
local key = KEYS[1]

local count
if tonumber(ARGV[1]) > 0 then
  count = rcall("INCR", key)
  -- A new key, or one left without an expiry: start the window now.
  if rcall("PTTL", key) < 0 then rcall("PEXPIRE", key, ARGV[2]) end
else
  count = tonumber(rcall("GET", key) or "0")
end

local ttl = rcall("PTTL", key)
if ttl < 0 then ttl = 0 end
return { count, ttl }
