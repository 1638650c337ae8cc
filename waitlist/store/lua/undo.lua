-- Take back a host's last move within the undo window: put a party that left the list by mistake back
-- in its old place, or take back a notify (the party waits again at its old place). Which statuses undo
-- takes a party from and back to are the domain's (waitlist.domain.model: UNDOABLE, UNDO_RESTORES,
-- UNDO_NOTIFY).
-- KEYS[1] line, KEYS[2] sizes hash (see includes/line.lua), KEYS[3] party hash, KEYS[4] waiting zset,
-- KEYS[5] notified zset, KEYS[6] phones hash, KEYS[7] finished zset, KEYS[8] events stream,
-- KEYS[9] the party's conversation (message ids), KEYS[10] message key prefix, KEYS[11] restaurant hash
-- (the floor), KEYS[12] table states (see includes/tables.lua)
-- ARGV[1] JSON: id, now, window (seconds), actor, from (statuses undo may take a party from), to
--   (statuses it may put one back in), notify_from, notify_to (a notify's undo: from notified back to
--   waiting)
-- -> {'ok', restored status, previous status} | {'not_found'} | {'invalid', status} | {'too_late', status}
--    | {'phone_taken', status} | {'answered', status}
--- @include "add_event"
--- @include "line"
--- @include "tables"
local u = cjson.decode(ARGV[1])
local pid = u.id
local now = tonumber(u.now)
local m = redis.call('HMGET', KEYS[3], 'status', 'finished_at', 'prev_status', 'prev_score', 'phone',
  'notified_at', 'unnotify_score', 'unnotify_count', 'answered_at', 'joined_at', 'party_size', 'tables',
  'held_before_seat')
local status = m[1]
if not status then return {'not_found'} end
local function member(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

-- The party's tables go back as they were: a notify taken back frees the tables it held; a seat taken
-- back frees the tables it occupied, except those the party held before, which it holds again if
-- nobody took them since. (A cancel or no-show already freed the tables; they are not held again.)
local function tables_back(pid, from, to)
  local had = split_names(m[12])
  if #had == 0 then return end
  local floor, total = floor_map(KEYS[11])
  local ctx = {states = KEYS[12], events = KEYS[8], floor = floor, total = total, now = u.now, actor = u.actor,
               undo = true}
  if from ~= 'seated' then
    release(ctx, had, pid, 'free')
    redis.call('HDEL', KEYS[3], 'tables')
    return
  end
  local before = split_names(m[13])
  local again = {}
  for _, name in ipairs(before) do
    local s, p = table_state(ctx.states, name)
    if floor[name] and (p == pid or s == 'free' or s == 'cleared') then again[#again + 1] = name end
  end
  local group = table.concat(again, ',')
  release(ctx, had, pid, 'free', name_set(again))
  for _, name in ipairs(again) do set_table(ctx, name, 'held', pid, group) end
  redis.call('HDEL', KEYS[3], 'held_before_seat', 'table_seats')
  if to == 'notified' and #again > 0 then
    redis.call('HSET', KEYS[3], 'tables', group)
  else
    redis.call('HDEL', KEYS[3], 'tables')
    if #again > 0 then release(ctx, again, pid, 'free') end
  end
end

-- A notify: its window counts from the first notify, and it ends once the guest answered (on the
-- page, or by any text since the notify: the conversation is read newest first).
if status == u.notify_from then
  if not m[7] or m[7] == '' then return {'invalid', status} end  -- not notified from the line
  local since = tonumber(m[6] or '0')
  if now - since > u.window then return {'too_late', status} end
  if m[9] and m[9] ~= '' and tonumber(m[9]) >= since then return {'answered', status} end
  local ids = redis.call('LRANGE', KEYS[9], 0, -1)
  for i = #ids, 1, -1 do
    local msg = redis.call('HMGET', KEYS[10] .. ids[i], 'direction', 'created_at')
    local at = tonumber(msg[2] or '')
    if at and at < since then break end
    if msg[1] == 'in' then return {'answered', status} end
  end
  redis.call('ZREM', KEYS[5], pid)
  redis.call('ZADD', KEYS[4], tonumber(m[7]), pid)
  tables_back(pid, status, u.notify_to)
  redis.call('HSET', KEYS[3], 'status', u.notify_to, 'notify_count', m[8] or '0')
  redis.call('HDEL', KEYS[3], 'notified_at', 'last_notified_at', 'hold_until', 'unnotify_score', 'unnotify_count')
  redis.call('HINCRBY', KEYS[3], 'hold_version', 1)  -- the hold timer already scheduled is stale
  line_placed(pid, KEYS[4], KEYS[5])
  add_event(KEYS[8], 'type', 'status', 'party', pid, 'from', status, 'to', u.notify_to, 'at', u.now,
    'actor', u.actor, 'undo', '1', 'joined', m[10] or '', 'size', m[11] or '')
  return {'ok', u.notify_to, status}
end

-- A party that left the list: its window counts from when it left.
if not member(u.from, status) or not m[3] or not member(u.to, m[3]) then return {'invalid', status} end
if now - tonumber(m[2] or '0') > u.window then return {'too_late', status} end
local holder = redis.call('HGET', KEYS[6], m[5])
if holder and holder ~= pid then return {'phone_taken', status} end
tables_back(pid, status, m[3])
redis.call('HSET', KEYS[3], 'status', m[3])
redis.call('HDEL', KEYS[3], 'seated_at', 'finished_at', 'prev_status', 'prev_score')
redis.call('PERSIST', KEYS[3])
redis.call('ZREM', KEYS[7], pid)
if m[3] == 'waiting' then
  redis.call('ZADD', KEYS[4], tonumber(m[4] ~= '' and m[4] or u.now), pid)
else
  redis.call('ZADD', KEYS[5], tonumber(m[6] or u.now), pid)
end
redis.call('HSET', KEYS[6], m[5], pid)
line_placed(pid, KEYS[4], KEYS[5], redis.call('HGET', KEYS[3], 'party_size'))
add_event(KEYS[8], 'type', 'status', 'party', pid, 'from', status, 'to', m[3], 'at', u.now,
  'actor', u.actor, 'undo', '1')
return {'ok', m[3], status}
