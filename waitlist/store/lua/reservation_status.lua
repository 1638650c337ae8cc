-- Move a reservation to another status (waitlist.domain.reservations.TRANSITIONS gives the sources).
-- Leaving the states that hold a table frees its pacing (the active zset); a cancel or no-show also
-- bumps the timer version, so reminders and grace timers already scheduled do nothing.
-- KEYS[1] reservations version, KEYS[2] the reservation's hash, KEYS[3] active zset, KEYS[4] events stream,
-- KEYS[5] bookings still to arrive (left by every status but booked and confirmed)
-- ARGV[1] JSON: status (target), sources (allowed from), holds (bool: the target still holds a table),
--   fields (strings to set with it, e.g. party), now, actor
-- -> {'ok', previous status, timer version} | {'not_found'} | {'invalid', status}
--- @include "fields"
--- @include "add_event"
local a = cjson.decode(ARGV[1])
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return {'not_found'} end
local allowed = false
for _, s in ipairs(a.sources) do if s == status then allowed = true end end
if not allowed then return {'invalid', status} end
a.fields.status = a.status
a.fields[a.status .. '_at'] = a.now
redis.call('HSET', KEYS[2], unpack(field_pairs(a.fields)))
local member = redis.call('HGET', KEYS[2], 'member')
if a.holds then
  local start = tonumber(redis.call('HGET', KEYS[2], 'start'))
  redis.call('ZADD', KEYS[3], start, member)
else
  redis.call('ZREM', KEYS[3], member)
end
if a.status ~= 'booked' and a.status ~= 'confirmed' then
  redis.call('ZREM', KEYS[5], redis.call('HGET', KEYS[2], 'id') .. '|' .. redis.call('HGET', KEYS[2], 'party_size'))
end
local timer = redis.call('HGET', KEYS[2], 'timer_version')
if a.status == 'cancelled' or a.status == 'no_show' or a.status == 'completed' then
  timer = tostring(redis.call('HINCRBY', KEYS[2], 'timer_version', 1))
end
redis.call('INCR', KEYS[1])
local booked = redis.call('HMGET', KEYS[2], 'id', 'start', 'party_size')
add_event(KEYS[4], 'type', 'reservation', 'event', a.status, 'reservation', booked[1],
          'from', status, 'at', a.now, 'actor', a.actor, 'start', booked[2] or '', 'size', booked[3] or '')
return {'ok', status, timer}
