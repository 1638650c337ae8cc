-- A host's action on a named table: block it, unblock it, or clear it (a cleared table is 'cleared':
-- clearing for the restaurant's clearing_minutes, then free; clearing a clearing table frees it now).
-- An occupied table is cleared by completing its party (the transition script, which frees every table
-- of the party): this script answers {'occupied', party} and changes nothing.
-- KEYS[1] restaurant hash (the floor), KEYS[2] table states, KEYS[3] events stream
-- ARGV[1] JSON: op ('block' | 'unblock' | 'clear' | 'vacate': clear a table occupied by `party`, whose
--   record expired), name, now, actor, party
-- -> {'ok', stored state after} | {'no_table', name} | {'table_taken', name, party} | {'table_blocked', name}
--    | {'occupied', party}
--- @include "tables"
local a = cjson.decode(ARGV[1])
local floor, total = floor_map(KEYS[1])
local name = a.name
if not floor[name] then return {'no_table', name} end
local ctx = {states = KEYS[2], events = KEYS[3], floor = floor, total = total, now = a.now, actor = a.actor}
local s, p, since = table_state(KEYS[2], name)
if a.op == 'block' then
  if s == 'held' or s == 'occupied' then return {'table_taken', name, p} end
  if s ~= 'blocked' then set_table(ctx, name, 'blocked', '') end
  return {'ok', 'blocked'}
elseif a.op == 'unblock' then
  if s == 'blocked' then set_table(ctx, name, 'free', '') end
  return {'ok', s == 'blocked' and 'free' or s}
elseif a.op == 'vacate' then
  if s == 'occupied' and p == a.party then set_table(ctx, name, 'cleared', '') end
  return {'ok', 'cleared'}
end
-- clear
if s == 'occupied' then return {'occupied', p} end
if s == 'held' then return {'table_taken', name, p} end
if s == 'blocked' then return {'table_blocked', name} end
if s == 'cleared' then set_table(ctx, name, 'free', '', nil, since) end  -- free since its party left
return {'ok', s == 'cleared' and 'free' or s}
