-- Move a waiting party to another place in line.
-- KEYS[1] line, KEYS[2] sizes hash (see includes/line.lua; the sizes do not change), KEYS[3] waiting
-- zset, KEYS[4] party key prefix (the almost-ready promotion), KEYS[5] events stream, KEYS[6] party hash
-- ARGV[1] JSON: id, position (wanted, 1-based, clamped), now, actor, almost_ready_position
-- -> {'ok', old position, new position, promoted ids...} | {'not_found'} | {'invalid', status}
--- @include "add_event"
--- @include "line"
--- @include "promote"
local m = cjson.decode(ARGV[1])
local waiting, prefix = KEYS[3], KEYS[4]
local ids = redis.call('ZRANGE', waiting, 0, -1)
local from = nil
for i, v in ipairs(ids) do if v == m.id then from = i end end
if not from then
  local status = redis.call('HGET', KEYS[6], 'status')
  if not status then return {'not_found'} end
  return {'invalid', status}
end
local to = math.max(1, math.min(m.position, #ids))
table.remove(ids, from)
table.insert(ids, to, m.id)
local args = {}
for i, v in ipairs(ids) do
  args[#args + 1] = i
  args[#args + 1] = v
end
redis.call('ZADD', waiting, unpack(args))
line_change('reordered')
add_event(KEYS[5], 'type', 'move', 'party', m.id, 'from', tostring(from), 'to', tostring(to),
  'at', m.now, 'actor', m.actor)
local result = {'ok', tostring(from), tostring(to)}
for _, p in ipairs(promote_almost_ready(waiting, prefix, m.almost_ready_position)) do table.insert(result, p) end
return result
