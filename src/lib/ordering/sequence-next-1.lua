--[[
  Allocates the next position in a per-call order (commands of one call run in issue order).

  KEYS[1] the call's sequence counter
  ARGV[1] counter TTL (seconds)

  Returns the new sequence number (>= 1).
]]
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return seq
