-- Book a reservation, or change one's time, size or notes, if no booking changed since the caller
-- worked out pacing (waitlist.domain.reservations): the restaurant's reservations version is the guard,
-- so of two guests booking the last slot one writes and the other is told to look again.
-- KEYS[1] reservations version, KEYS[2] the reservation's hash, KEYS[3] active zset (member
--   "id|size|end", score start), KEYS[4] every reservation by time (id, score start), KEYS[5] its
--   manage-link token key, KEYS[6] events stream, KEYS[7] the guest number's reservations (zset, score start),
--   KEYS[8] bookings still to arrive ("id|size", score start: the snapshot's)
-- ARGV[1] JSON: version (as read, '' for none), create (bool), id, fields (strings), start, member,
--   token, keep (seconds kept after its time), now, changeable (statuses a change is allowed from),
--   force (bool: staff booked past the caps; recorded)
-- -> {'ok', timer version} | {'stale'} | {'not_found'} | {'invalid', status} | {'id_taken'}
--- @include "fields"
--- @include "add_event"
local a = cjson.decode(ARGV[1])
if (redis.call('GET', KEYS[1]) or '') ~= a.version then return {'stale'} end
local event = 'booked'
if a.create then
  if redis.call('EXISTS', KEYS[2]) == 1 then return {'id_taken'} end
else
  local status = redis.call('HGET', KEYS[2], 'status')
  if not status then return {'not_found'} end
  local allowed = false
  for _, s in ipairs(a.changeable) do if s == status then allowed = true end end
  if not allowed then return {'invalid', status} end
  redis.call('ZREM', KEYS[3], redis.call('HGET', KEYS[2], 'member'))
  redis.call('ZREM', KEYS[8], a.id .. '|' .. redis.call('HGET', KEYS[2], 'party_size'))
  event = 'changed'
end
a.fields.member = a.member
redis.call('HSET', KEYS[2], unpack(field_pairs(a.fields)))
local timer = redis.call('HINCRBY', KEYS[2], 'timer_version', 1)
redis.call('ZADD', KEYS[3], a.start, a.member)
redis.call('ZADD', KEYS[4], a.start, a.id)
redis.call('ZADD', KEYS[7], a.start, a.id)
redis.call('ZADD', KEYS[8], a.start, a.id .. '|' .. redis.call('HGET', KEYS[2], 'party_size'))
redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', tonumber(a.now) - 86400)  -- never marked: a day is enough
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', tonumber(a.now) - a.keep)
redis.call('INCR', KEYS[1])
-- relative to the caller's clock (a test's clock is not Redis's)
local ttl = math.max(60, math.floor(a.start + a.keep - tonumber(a.now)))
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('SET', KEYS[5], a.id, 'EX', ttl)
if redis.call('TTL', KEYS[7]) < ttl then redis.call('EXPIRE', KEYS[7], ttl) end
add_event(KEYS[6], 'type', 'reservation', 'event', event, 'reservation', a.id, 'at', a.now,
          'start', tostring(a.start), 'size', a.fields.party_size or '', 'forced', a.force and '1' or '')
return {'ok', tostring(timer)}
