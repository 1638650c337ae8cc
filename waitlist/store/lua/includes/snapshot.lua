--- @include "line"
-- read_snapshot(): what the estimator reads (waitlist.estimate.estimator.Snapshot). KEYS[1] line,
-- KEYS[2] sizes hash, KEYS[3] waiting zset, KEYS[4] party key prefix, KEYS[5] recent seatings,
-- KEYS[6] recent turns, KEYS[7] recent drops, KEYS[8] notified zset, KEYS[9] hour-of-week history,
-- KEYS[10] table states, KEYS[11] restaurant hash (its "floor": see includes/tables.lua)
-- -> {waiting sizes (queue order, one string "2 4 2"), seatings, turns, drops, notified sizes (one
--    string), history flat, floor JSON ('' without named tables), table states flat}
local function read_snapshot()
  local waiting, notified = line_sizes(KEYS[3], KEYS[8], KEYS[4])
  local floor = redis.call('HGET', KEYS[11], 'floor') or ''
  local states = floor ~= '' and redis.call('HGETALL', KEYS[10]) or {}
  return {waiting, redis.call('LRANGE', KEYS[5], 0, -1), redis.call('LRANGE', KEYS[6], 0, -1),
          redis.call('LRANGE', KEYS[7], 0, -1), notified, redis.call('HGETALL', KEYS[9]), floor, states}
end
