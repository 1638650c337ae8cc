-- The derived line (waitlist.store.keys.line_key): one string, the sizes of the waiting parties in
-- queue order, a bar, then the notified parties' sizes ("2 4 2|6"), and under it the sizes hash (party
-- id -> size for every party on the list, pending ones too). Every script that changes the line takes
-- KEYS[1] the line and KEYS[2] the sizes hash, and changes them only through line_change; the
-- snapshot reads them through line_sizes, which writes the line again when it is missing.
local LINE, SIZES = KEYS[1], KEYS[2]
local LINE_TTL = {{LINE_TTL}}  -- a restaurant that goes quiet does not keep the line

-- line_change(change, pid, size, position, count): `change` is
--   'joined'    pid joined the waiting line at `position` of `count`: at the end the line is extended,
--               elsewhere dropped
--   'pending'   pid is on the list unconfirmed: its size is kept, the line does not change
--   'resized'   pid's size changed: kept when pid is on the list, and the line dropped
--   'reordered' the waiting or notified parties changed order or place: the line is dropped
--   'left'      pid left the list
--   'returned'  pid came back to the list (an undo)
local function line_change(change, pid, size, position, count)
  if change == 'pending' then
    redis.call('HSET', SIZES, pid, size)
    return
  end
  if change == 'joined' then
    redis.call('HSET', SIZES, pid, size)
    local line = redis.call('GET', LINE)
    if line and position == count then
      local bar = string.find(line, '|', 1, true)
      local waiting = bar > 1 and string.sub(line, 1, bar - 1) .. ' ' .. size or size
      redis.call('SET', LINE, waiting .. string.sub(line, bar), 'EX', LINE_TTL)
    elseif line then
      redis.call('DEL', LINE)
    end
    return
  end
  if change == 'resized' then
    if redis.call('HEXISTS', SIZES, pid) == 0 then return end
    redis.call('HSET', SIZES, pid, size)
  elseif change == 'left' then
    redis.call('HDEL', SIZES, pid)
  elseif change == 'returned' then
    redis.call('HSET', SIZES, pid, size)
  end
  redis.call('DEL', LINE)
end

-- id -> size from one HGETALL. Not HMGET: a hash under 128 fields is a listpack, which HMGET scans
-- once per id asked (88 us of Redis for 100 ids, against a few for HGETALL).
local function size_table()
  local flat, known = redis.call('HGETALL', SIZES), {}
  for i = 1, #flat, 2 do known[flat[i]] = flat[i + 1] end
  return known
end

-- One space-separated string rather than an array: one reply element to parse instead of one per
-- party. A party with no entry in the sizes hash (from before that hash) falls back to its own.
local function sizes_of(ids, known, prefix)
  local out = {}
  for _, id in ipairs(ids) do
    local v = known[id] or redis.call('HGET', prefix .. id, 'party_size')
    if v then out[#out + 1] = v end
  end
  return table.concat(out, ' ')
end

-- line_sizes(waiting, notified, prefix) -> waiting sizes "2 4 2", notified sizes "6". From the line
-- key when it is there: working them out converts every id of the line and every entry of the sizes
-- hash into Lua strings (two thirds of the snapshot's time with 40 parties waiting). Otherwise worked
-- out from the sets and the sizes hash, and the line key written for the next read.
local function line_sizes(waiting_key, notified_key, prefix)
  local line = redis.call('GET', LINE)
  if line then
    local bar = string.find(line, '|', 1, true)
    return string.sub(line, 1, bar - 1), string.sub(line, bar + 1)
  end
  local known = size_table()
  local waiting = sizes_of(redis.call('ZRANGE', waiting_key, 0, -1), known, prefix)
  local notified = sizes_of(redis.call('ZRANGE', notified_key, 0, -1), known, prefix)
  redis.call('SET', LINE, waiting .. '|' .. notified, 'EX', LINE_TTL)
  return waiting, notified
end
