-- The derived line (waitlist.store.keys.line_key): what the snapshot reads instead of the sets. One
-- string: '=', the waiting parties' sizes in queue order, '|', the notified parties' sizes, '|', then
-- the same parties' ids in the same orders:  "=  2  4|  8|a               b               |n      ...".
-- Every entry has a fixed width (a size in 3 characters, an id padded to 16), so a change of one party
-- is a splice at a computed offset (string.find and string.sub run in C), never a pass over the line
-- in Lua: at 3,000 parties, working the line out afresh held Redis for 3 ms, and it was dropped by
-- every notify, seat and move (issue 26). Under it, the sizes hash (party id -> size for every party
-- on the list, pending ones too). Every script that changes the line takes KEYS[1] the line and
-- KEYS[2] the sizes hash and keeps both through line_change or line_placed; the snapshot reads them
-- through line_sizes. Any doubt (an older format, an id or size that does not fit, counts that do not
-- match the sets) drops the key, and the next snapshot works it out again.
local LINE, SIZES = KEYS[1], KEYS[2]
local LINE_TTL = {{LINE_TTL}}  -- a restaurant that goes quiet does not keep the line
local SIZE_W, ID_W = 3, 16
local BUILD_MAX = 400  -- a longer line missing its key is worked out in slices by the caller

local function size_cell(size)
  local s = tostring(size or '')
  if s == '' or #s > SIZE_W then return nil end
  return string.rep(' ', SIZE_W - #s) .. s
end

local function id_cell(pid)
  if not pid or pid == '' or #pid > ID_W or string.find(pid, ' ', 1, true) then return nil end
  return pid .. string.rep(' ', ID_W - #pid)
end

-- {waiting sizes, notified sizes, waiting ids, notified ids}, or nil when the key is missing or holds
-- something else (an older format; '~...', the mark of a rebuild in slices under way).
local function line_read()
  local line = redis.call('GET', LINE)
  if not line or string.sub(line, 1, 1) ~= '=' then return nil end
  local a = string.find(line, '|', 2, true)
  local b = a and string.find(line, '|', a + 1, true)
  local c = b and string.find(line, '|', b + 1, true)
  if not c then return nil end
  return {string.sub(line, 2, a - 1), string.sub(line, a + 1, b - 1), string.sub(line, b + 1, c - 1),
          string.sub(line, c + 1)}
end

local function line_write(p)
  redis.call('SET', LINE, '=' .. p[1] .. '|' .. p[2] .. '|' .. p[3] .. '|' .. p[4], 'EX', LINE_TTL)
end

local function entries(p, section) return #p[section] / SIZE_W end

-- Where an id's entry is: section (1 waiting, 2 notified) and 0-based index, or nil.
local function line_find(p, cell)
  for section = 1, 2 do
    local ids, from = p[section + 2], 1
    while true do
      local at = string.find(ids, cell, from, true)
      if not at then break end
      if (at - 1) % ID_W == 0 then return section, (at - 1) / ID_W end
      from = at + 1
    end
  end
  return nil
end

local function line_cut(p, section, i)
  local size = string.sub(p[section], i * SIZE_W + 1, (i + 1) * SIZE_W)
  p[section] = string.sub(p[section], 1, i * SIZE_W) .. string.sub(p[section], (i + 1) * SIZE_W + 1)
  local ids = p[section + 2]
  p[section + 2] = string.sub(ids, 1, i * ID_W) .. string.sub(ids, (i + 1) * ID_W + 1)
  return size
end

local function line_paste(p, section, i, size, id)
  p[section] = string.sub(p[section], 1, i * SIZE_W) .. size .. string.sub(p[section], i * SIZE_W + 1)
  local ids = p[section + 2]
  p[section + 2] = string.sub(ids, 1, i * ID_W) .. id .. string.sub(ids, i * ID_W + 1)
end

-- line_change(change, pid, size, position, count): `change` is
--   'joined'    pid joined the waiting line at `position` of `count`
--   'pending'   pid is on the list unconfirmed: its size is kept, the line does not change
--   'resized'   pid's size changed: kept when pid is on the list
--   'left'      pid left the list
--   'reordered', 'returned'  (pid moved or came back, without the sets to find where: the line is
--               dropped; line_placed does better)
local function line_change(change, pid, size, position, count)
  if change == 'pending' then
    redis.call('HSET', SIZES, pid, size)
    return
  end
  if change == 'resized' then
    if redis.call('HEXISTS', SIZES, pid) == 0 then return end
    redis.call('HSET', SIZES, pid, size)
  elseif change == 'joined' or change == 'returned' then
    redis.call('HSET', SIZES, pid, size)
  elseif change == 'left' then
    redis.call('HDEL', SIZES, pid)
  end
  local p, id = line_read(), id_cell(pid)
  if not p or not id or change == 'reordered' or change == 'returned' then
    redis.call('DEL', LINE)
    return
  end
  local section, i = line_find(p, id)
  local cell = size_cell(size)
  if change == 'joined' then
    if section or not cell or count ~= entries(p, 1) + 1 then redis.call('DEL', LINE) return end
    line_paste(p, 1, position - 1, cell, id)
  elseif not section then
    return  -- not in line (pending): the line does not change
  elseif change == 'left' then
    line_cut(p, section, i)
  elseif change == 'resized' then
    if not cell then redis.call('DEL', LINE) return end
    line_cut(p, section, i)
    line_paste(p, section, i, cell, id)
  end
  line_write(p)
end

-- line_placed(pid, waiting_key, notified_key, size): pid changed place or section (a notify, a move,
-- a confirmation, an undo): its entry moves to where the sets now hold it. `notified_key` may be nil
-- (a move within the waiting line); `size` is given when pid comes back to the list (kept in the
-- sizes hash). The sets' counts (ZCARD, O(1)) check the result.
local function line_placed(pid, waiting_key, notified_key, size)
  if size then redis.call('HSET', SIZES, pid, size) end
  local p, id = line_read(), id_cell(pid)
  if not p or not id then redis.call('DEL', LINE) return end
  local section, i = line_find(p, id)
  local cell = size_cell(size)
  if section then
    local old = line_cut(p, section, i)
    cell = cell or old
  end
  cell = cell or size_cell(redis.call('HGET', SIZES, pid))
  local rank, into = redis.call('ZRANK', waiting_key, pid), 1
  if not rank and notified_key then rank, into = redis.call('ZRANK', notified_key, pid), 2 end
  if rank then
    if not cell or rank > entries(p, into) then redis.call('DEL', LINE) return end
    line_paste(p, into, rank, cell, id)
  end
  if entries(p, 1) ~= redis.call('ZCARD', waiting_key)
      or (notified_key and entries(p, 2) ~= redis.call('ZCARD', notified_key)) then
    redis.call('DEL', LINE)
    return
  end
  line_write(p)
end

-- id -> size from one HGETALL. Not HMGET: a hash under 128 fields is a listpack, which HMGET scans
-- once per id asked (88 us of Redis for 100 ids, against a few for HGETALL).
local function size_table()
  local flat, known = redis.call('HGETALL', SIZES), {}
  for i = 1, #flat, 2 do known[flat[i]] = flat[i + 1] end
  return known
end

-- line_sizes(waiting, notified, prefix) -> the waiting sizes "  2  4  2" and the notified sizes "  6"
-- (a size per 3 characters). From the line key when it is there. Otherwise worked out from the sets
-- and the sizes hash (a party with no entry there falls back to its own hash) and written for the
-- next read; but a line longer than BUILD_MAX is not worked out here: the answer is '?', '' and the
-- caller reads it in slices and writes the key (waitlist.store.listing.build_line).
local function line_sizes(waiting_key, notified_key, prefix)
  local p = line_read()
  if p then return p[1], p[2], p[3] end
  if redis.call('ZCARD', waiting_key) + redis.call('ZCARD', notified_key) > BUILD_MAX then return '?', '', '' end
  local known, parts, whole = size_table(), {}, true
  for section, key in ipairs({waiting_key, notified_key}) do
    local sizes, ids = {}, {}
    for _, pid in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      local cell = size_cell(known[pid] or redis.call('HGET', prefix .. pid, 'party_size'))
      local id = id_cell(pid)
      if cell and id then
        sizes[#sizes + 1], ids[#ids + 1] = cell, id
      else
        whole = false
      end
    end
    parts[section], parts[section + 2] = table.concat(sizes), table.concat(ids)
  end
  if whole then line_write(parts) end
  return parts[1], parts[2], parts[3]
end
