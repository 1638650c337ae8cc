-- Put back a party that left the list by mistake, in its old place, within the undo window. Which
-- statuses undo takes a party from and back to are the domain's (waitlist.domain.model: UNDOABLE,
-- UNDO_RESTORES).
-- KEYS[1] line, KEYS[2] sizes hash (see includes/line.lua), KEYS[3] party hash, KEYS[4] waiting zset,
-- KEYS[5] notified zset, KEYS[6] phones hash, KEYS[7] finished zset, KEYS[8] events stream
-- ARGV[1] JSON: id, now, window (seconds), actor, from (statuses undo may take a party from), to
--   (statuses it may put one back in)
-- -> {'ok', restored status} | {'not_found'} | {'invalid', status} | {'too_late', status}
--    | {'phone_taken', status}
--- @include "add_event"
--- @include "line"
local u = cjson.decode(ARGV[1])
local pid = u.id
local m = redis.call('HMGET', KEYS[3], 'status', 'finished_at', 'prev_status', 'prev_score', 'phone',
  'notified_at')
local status = m[1]
if not status then return {'not_found'} end
local function member(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end
if not member(u.from, status) or not m[3] or not member(u.to, m[3]) then return {'invalid', status} end
if tonumber(u.now) - tonumber(m[2] or '0') > u.window then return {'too_late', status} end
local holder = redis.call('HGET', KEYS[6], m[5])
if holder and holder ~= pid then return {'phone_taken', status} end
redis.call('HSET', KEYS[3], 'status', m[3])
redis.call('HDEL', KEYS[3], 'seated_at', 'finished_at', 'prev_status', 'prev_score')
redis.call('PERSIST', KEYS[3])
redis.call('ZREM', KEYS[7], pid)
if m[3] == 'waiting' then
  redis.call('ZADD', KEYS[4], tonumber(m[4] ~= '' and m[4] or u.now), pid)
else
  redis.call('ZADD', KEYS[5], tonumber(m[6] or u.now), pid)
end
redis.call('HSET', KEYS[6], m[5], pid)
line_change('returned', pid, redis.call('HGET', KEYS[3], 'party_size'))
add_event(KEYS[8], 'type', 'status', 'party', pid, 'from', status, 'to', m[3], 'at', u.now,
  'actor', u.actor, 'undo', '1')
return {'ok', m[3]}
