--- @include "line"
-- read_snapshot(): what the estimator reads (waitlist.estimate.estimator.Snapshot). KEYS[1] line,
-- KEYS[2] sizes hash, KEYS[3] waiting zset, KEYS[4] party key prefix, KEYS[5] recent seatings,
-- KEYS[6] recent turns, KEYS[7] recent drops, KEYS[8] notified zset, KEYS[9] hour-of-week history,
-- KEYS[10] table states, KEYS[11] restaurant hash (its "floor": see includes/tables.lua), KEYS[12] bookings
-- still to arrive ("id|size", score start)
-- -> {waiting sizes (queue order, one string "2 4 2"), seatings, turns, drops, notified sizes (one
--    string), history flat, floor JSON ('' without named tables), table states flat, bookings due from a
--    quarter hour ago to two hours on (member, start, ...; Redis's clock: TIME), and the first
--    {{OVERDUE_HEAD}} waiting parties in queue order as one string "joined_at|size|quote_raw ..." (the
--    self-calibration reads those already waiting past their quote; one string, so that a head that has
--    not moved is parsed once: see waitlist.store.codec)}
local function read_snapshot()
  local waiting, notified, ids = line_sizes(KEYS[3], KEYS[8], KEYS[4])
  local head = {}
  for i = 0, math.min({{OVERDUE_HEAD}}, #ids / ID_W) - 1 do
    local pid = string.match(string.sub(ids, i * ID_W + 1, (i + 1) * ID_W), '^(%S+)')
    local f = redis.call('HMGET', KEYS[4] .. pid, 'joined_at', 'party_size', 'quote_raw')
    head[i + 1] = (f[1] or '') .. '|' .. (f[2] or '') .. '|' .. (f[3] or '')
  end
  local floor = redis.call('HGET', KEYS[11], 'floor') or ''
  local states = floor ~= '' and redis.call('HGETALL', KEYS[10]) or {}
  local now = tonumber(redis.call('TIME')[1])
  local due = redis.call('ZRANGEBYSCORE', KEYS[12], now - 900, now + 7200, 'WITHSCORES', 'LIMIT', 0, 100)
  return {waiting, redis.call('LRANGE', KEYS[5], 0, -1), redis.call('LRANGE', KEYS[6], 0, -1),
          redis.call('LRANGE', KEYS[7], 0, -1), notified, redis.call('HGETALL', KEYS[9]), floor, states, due,
          table.concat(head, ' ')}
end
