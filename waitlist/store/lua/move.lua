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
local rank = redis.call('ZRANK', waiting, m.id)
if not rank then
  local status = redis.call('HGET', KEYS[6], 'status')
  if not status then return {'not_found'} end
  return {'invalid', status}
end
local count = redis.call('ZCARD', waiting)
local from, to = rank + 1, math.max(1, math.min(m.position, count))
-- The party takes a score between its new neighbours' (read by rank: O(log n)), so nobody else's
-- score changes: renumbering the whole line held Redis for 8 ms at 3,000 parties (issue 26). Only
-- when two neighbours' scores are too close to split (after very many moves between the same two
-- parties) is the line renumbered 1..n.
local function score_at(i)  -- the score of the party at 0-based index i of the line without this party
  if i < 0 or i >= count - 1 then return nil end
  local found = redis.call('ZRANGE', waiting, i < rank and i or i + 1, i < rank and i or i + 1, 'WITHSCORES')
  return tonumber(found[2])
end
if to ~= from then
  local before, after = score_at(to - 2), score_at(to - 1)
  local score
  if before and after then score = (before + after) / 2
  elseif before then score = before + 1
  else score = after - 1 end
  if (before and score <= before) or (after and score >= after) then
    local ids = redis.call('ZRANGE', waiting, 0, -1)
    table.remove(ids, from)
    table.insert(ids, to, m.id)
    local args = {}
    for i, v in ipairs(ids) do
      args[#args + 1] = i
      args[#args + 1] = v
    end
    redis.call('ZADD', waiting, unpack(args))
  else
    redis.call('ZADD', waiting, score, m.id)
  end
end
line_placed(m.id, waiting)
add_event(KEYS[5], 'type', 'move', 'party', m.id, 'from', tostring(from), 'to', tostring(to),
  'at', m.now, 'actor', m.actor)
local result = {'ok', tostring(from), tostring(to)}
for _, p in ipairs(promote_almost_ready(waiting, prefix, m.almost_ready_position)) do table.insert(result, p) end
return result
