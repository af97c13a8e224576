--[[
  Marks position ARGV[1] of a per-call order as done: done = max(done, seq). Never moves backwards,
  so a late duplicate or a skipped gap cannot reopen an earlier turn.

  KEYS[1] the call's "done through" counter
  ARGV[1] sequence number that finished
  ARGV[2] counter TTL (seconds)

  Returns the new "done through" value.
]]
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local seq = tonumber(ARGV[1])
if seq > cur then
  redis.call('SET', KEYS[1], seq, 'EX', ARGV[2])
  return seq
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return cur
