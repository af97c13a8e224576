--[[
  Admits a webhook event exactly once and gives it its place in the call's event order.

  KEYS[1] dedupe marker for the event id
  KEYS[2] the call's event sequence counter
  ARGV[1] dedupe TTL (seconds) -- longer than Telnyx's redelivery horizon
  ARGV[2] sequence counter TTL (seconds) -- longer than the longest call

  Returns 0 when the event was already admitted (duplicate delivery), else its sequence number (>= 1).
]]
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) == false then
  return 0
end
local seq = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return seq
