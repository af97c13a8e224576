--[[
  event-admit-2.lua for many events in one call, in order: admits each event id once and gives it its
  place in its call's event order.

  KEYS[2i-1] dedupe marker for event i's id
  KEYS[2i]   event i's call's event sequence counter
  ARGV[1] dedupe TTL (seconds) -- longer than Telnyx's redelivery horizon
  ARGV[2] sequence counter TTL (seconds) -- longer than the longest call

  Returns one number per event: 0 when it was already admitted (duplicate delivery), -1 when its counter
  could not be advanced (its dedupe marker is removed again, so a redelivery is admitted), else its
  sequence number (>= 1). One event's failure does not stop the others: a script error would leave the
  events before it admitted while the caller refuses them all.
]]
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) == false then
    out[#out + 1] = 0
  else
    local seq = redis.pcall('INCR', KEYS[i + 1])
    if type(seq) == 'number' then
      redis.pcall('EXPIRE', KEYS[i + 1], ARGV[2])
      out[#out + 1] = seq
    else
      redis.call('DEL', KEYS[i])
      out[#out + 1] = -1
    end
  end
end
return out
