-- Replace the restaurant's named tables (the floor). A table that is held or occupied must stay (by
-- name); the states of tables that go are dropped. An empty floor takes the restaurant back to its
-- count-by-size setting.
-- KEYS[1] restaurant hash, KEYS[2] table states, KEYS[3] events stream
-- ARGV[1] JSON: floor (the floor's JSON text, checked by waitlist.domain.tables.validate_floor; '' for
--   none), names (its table names), now, actor
-- -> {'ok'} | {'table_taken', name, party}
--- @include "tables"
local a = cjson.decode(ARGV[1])
local keep = name_set(a.names)
local states = redis.call('HGETALL', KEYS[2])
local gone = {}
for i = 1, #states, 2 do
  local name = states[i]
  if not keep[name] then
    local s, p = table_state(KEYS[2], name)
    if s == 'held' or s == 'occupied' then return {'table_taken', name, p} end
    gone[#gone + 1] = name
  end
end
if #gone > 0 then redis.call('HDEL', KEYS[2], unpack(gone)) end
if a.floor == '' then
  redis.call('HDEL', KEYS[1], 'floor')
else
  redis.call('HSET', KEYS[1], 'floor', a.floor)
end
local _, total = floor_map(KEYS[1])
add_event(KEYS[3], 'type', 'floor', 'tables', #a.names, 'floor_seats', total, 'removed', table.concat(gone, ','),
  'at', a.now, 'actor', a.actor)
return {'ok'}
