-- Set or delete fields of a party (details, flags, feedback marks); a new party_size is kept in the
-- sizes hash while the party is on the list.
-- KEYS[1] line, KEYS[2] sizes hash (see includes/line.lua), KEYS[3] party hash, KEYS[4] events stream
-- ARGV[1] JSON: id, now, actor, allowed (the statuses it may be in; empty = any), event (the event's
--   type), fields (a list of [field, value] pairs, in order; a '' value deletes the field)
-- -> {'ok', status} | {'not_found'} | {'invalid', status}
--- @include "add_event"
--- @include "line"
local u = cjson.decode(ARGV[1])
local status = redis.call('HGET', KEYS[3], 'status')
if not status then return {'not_found'} end
if #u.allowed > 0 then
  local allowed = false
  for _, s in ipairs(u.allowed) do
    if s == status then allowed = true end
  end
  if not allowed then return {'invalid', status} end
end
local changed = {}
for _, pair in ipairs(u.fields) do
  local field, value = pair[1], pair[2]
  if value == '' then
    redis.call('HDEL', KEYS[3], field)
  else
    redis.call('HSET', KEYS[3], field, value)
    if field == 'party_size' then line_change('resized', u.id, value) end
  end
  table.insert(changed, field)
end
add_event(KEYS[4], 'type', u.event, 'party', u.id, 'fields', table.concat(changed, ','), 'at', u.now,
  'actor', u.actor)
return {'ok', status}
