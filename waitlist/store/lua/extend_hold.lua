-- A guest running late: flag the party (and note the answer: answered_at, which ends a notify's
-- undo) and, when notified, move its hold's end (a new hold_version, so the old hold timer no longer
-- applies).
-- KEYS[1] party hash, KEYS[2] events stream
-- ARGV[1] JSON: seconds (the extension asked for), now, actor, most_seconds (most total extension),
--   statuses (the statuses a party may run late in: waitlist.domain.model.MAY_RUN_LATE)
-- -> {'ok', status, new hold_until or '', hold_version or ''} | {'not_found'} | {'invalid', status}
--- @include "add_event"
local a = cjson.decode(ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'status', 'hold_until', 'late_seconds')
local status = m[1]
if not status then return {'not_found'} end
local may = false
for _, s in ipairs(a.statuses) do
  if s == status then may = true end
end
if not may then return {'invalid', status} end
local now = tonumber(a.now)
local used = tonumber(m[3] or '0')
local extra = math.max(0, math.min(a.seconds, a.most_seconds - used))
redis.call('HSET', KEYS[1], 'f:running_late', '1', 'late_seconds', tostring(used + extra), 'answered_at', a.now)
local hold, version = '', ''
if status == 'notified' then
  local base = math.max(tonumber(m[2] or a.now), now)
  hold = tostring(base + extra)
  redis.call('HSET', KEYS[1], 'hold_until', hold)
  version = tostring(redis.call('HINCRBY', KEYS[1], 'hold_version', 1))
end
add_event(KEYS[2], 'type', 'late', 'party', redis.call('HGET', KEYS[1], 'id') or '', 'seconds', tostring(extra),
  'at', a.now, 'actor', a.actor)
return {'ok', status, hold, version}
