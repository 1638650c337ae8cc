-- Move a party to another status. Which moves are allowed and what each does are the domain's
-- (waitlist.domain.model: allowed_from, EFFECTS), handed in as `allowed` and `effect`.
-- KEYS[1] line, KEYS[2] sizes hash (see includes/line.lua), KEYS[3] party hash, KEYS[4] waiting zset,
-- KEYS[5] notified zset, KEYS[6] phones hash, KEYS[7] finished zset, KEYS[8] events stream,
-- KEYS[9] party key prefix (the almost-ready promotion), KEYS[10] recent seatings, KEYS[11] recent
-- turns, KEYS[12] recent drops, KEYS[13] pending zset, KEYS[14] remote set, KEYS[15] seq,
-- KEYS[16] hour-of-week history (see includes/history.lua), KEYS[17] restaurant hash (the floor),
-- KEYS[18] table states (see includes/tables.lua)
-- ARGV[1] JSON: id, target (status), effect ('enter_line' | 'notify' | 'complete' | 'seat' | 'drop'),
--   allowed (the statuses it may come from), now, actor, almost_ready_position, hold_until (notify;
--   '' otherwise), hold_version (required hold_version, '' = any), ttl (seconds the party hash stays
--   once it left the list; 0 = no expiry), finished_since (the finished set's cutoff), recent_max
--   (the recent lists' length), tables (names the party is called to or seated at; [] = keep its own),
--   clearing (true: a completed party's tables are left 'cleared', not free)
-- -> {'ok', from status, promoted ids...} | {'not_found'} | {'invalid', status} | {'stale', status}
--    | {'no_table', name} | {'not_joinable', names} | {'too_big', seats} | {'table_blocked', name}
--    | {'table_taken', name, holder}
--- @include "add_event"
--- @include "history"
--- @include "line"
--- @include "promote"
--- @include "tables"
local t = cjson.decode(ARGV[1])
local pid, target, effect, now = t.id, t.target, t.effect, t.now
local party = KEYS[3]
local status = redis.call('HGET', party, 'status')
if not status then return {'not_found'} end
local allowed = false
for _, source in ipairs(t.allowed) do
  if source == status then allowed = true end
end
if not allowed then return {'invalid', status} end
if t.hold_version ~= '' and redis.call('HGET', party, 'hold_version') ~= t.hold_version then
  return {'stale', status}
end
local waiting, prefix, k = KEYS[4], KEYS[9], t.almost_ready_position
local size = redis.call('HGET', party, 'party_size')
local keep = t.recent_max
-- Named tables move with the party, in this script: a table never holds two parties.
local want, had = t.tables or {}, split_names(redis.call('HGET', party, 'tables'))
local ctx = nil
if #want > 0 or #had > 0 then
  local floor, total = floor_map(KEYS[17])
  ctx = {states = KEYS[18], events = KEYS[8], floor = floor, total = total, now = now, actor = t.actor}
  if #want > 0 then
    local refusal = refuse_tables(floor, KEYS[18], want, pid, size)
    if refusal then return refusal end
  end
end
redis.call('HSET', party, 'status', target)
if status == 'pending' then redis.call('ZREM', KEYS[13], pid) end
if effect == 'enter_line' then
  redis.call('ZADD', waiting, redis.call('INCR', KEYS[15]), pid)
  redis.call('HSET', party, 'confirmed_at', now)
  if redis.call('ZRANK', waiting, pid) < k then redis.call('HSET', party, 'almost_sent', '1') end
  line_placed(pid, waiting, KEYS[5])
elseif effect == 'notify' then
  if status == 'waiting' then  -- what undo.lua needs to take the notify back
    redis.call('HSET', party, 'unnotify_score', redis.call('ZSCORE', waiting, pid) or '',
      'unnotify_count', redis.call('HGET', party, 'notify_count') or '0')
  end
  redis.call('ZREM', waiting, pid)
  if status ~= 'notified' then
    redis.call('ZADD', KEYS[5], now, pid)
    redis.call('HSET', party, 'notified_at', now)
  end
  redis.call('HSET', party, 'last_notified_at', now, 'hold_until', t.hold_until)
  redis.call('HINCRBY', party, 'notify_count', 1)
  redis.call('HINCRBY', party, 'hold_version', 1)
  line_placed(pid, waiting, KEYS[5])
elseif effect == 'complete' then
  redis.call('HSET', party, 'completed_at', now)
  local seated = redis.call('HGET', party, 'seated_at') or now
  local table_seats = redis.call('HGET', party, 'table_seats')
  redis.call('LPUSH', KEYS[11], seated .. ':' .. now .. ':' .. size .. (table_seats and (':' .. table_seats) or ''))
  redis.call('LTRIM', KEYS[11], 0, keep - 1)
  -- A turn of seconds is a host clearing the list in bulk, not a meal: it teaches no dining time.
  if minutes_between(seated, now) >= {{HISTORY_MIN_TURN_MINUTES}} then
    bump_history(KEYS[16], seated, function(v)
      local b = size_bucket(size)
      v[b], v[b + 1] = v[b] + 1, v[b + 1] + minutes_between(seated, now)
    end)
  end
else  -- 'seat' or 'drop': the party leaves the list
  local score = redis.call('ZSCORE', waiting, pid)
  redis.call('HSET', party, 'prev_status', status, 'prev_score', score or '')
  redis.call('ZREM', waiting, pid)
  redis.call('ZREM', KEYS[5], pid)
  redis.call('SREM', KEYS[14], pid)
  line_change('left', pid)
  local phone = redis.call('HGET', party, 'phone')
  if phone and redis.call('HGET', KEYS[6], phone) == pid then redis.call('HDEL', KEYS[6], phone) end
  redis.call('HSET', party, 'finished_at', now)
  redis.call('ZADD', KEYS[7], now, pid)
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', '(' .. t.finished_since)
  local joined = redis.call('HGET', party, 'joined_at') or now
  if effect == 'seat' then
    redis.call('HSET', party, 'seated_at', now)
    -- The model's quote at the join rides along: the estimator's self-calibration reads it. So does,
    -- at named tables, the table's turnover gap: "seats/seconds" from its last party leaving to this
    -- one sitting down, when this party was already waiting as it left (see table_left).
    local gap = ''
    if ctx then
      local seat_at = #want > 0 and want or had
      local left = table_left(ctx, seat_at, pid, redis.call('HGET', party, 'tables_left'))
      local first = ctx.floor[seat_at[1]]
      if left and first and tonumber(joined) <= left then
        gap = ':' .. first.seats .. '/' .. (tonumber(now) - left)
      end
    end
    redis.call('LPUSH', KEYS[10], now .. ':' .. size .. ':' .. joined .. ':'
      .. (redis.call('HGET', party, 'quote_raw') or '') .. gap)
    redis.call('LTRIM', KEYS[10], 0, keep - 1)
    bump_history(KEYS[16], now, function(v)
      v[{{HISTORY_SEATINGS}}] = v[{{HISTORY_SEATINGS}}] + 1
      v[{{HISTORY_WAITED}}] = v[{{HISTORY_WAITED}}] + minutes_between(joined, now)
    end)
  elseif status ~= 'pending' then  -- an unconfirmed join that lapses was never in line
    redis.call('LPUSH', KEYS[12], now .. ':' .. size .. ':' .. joined .. ':' .. status .. ':' .. target)
    redis.call('LTRIM', KEYS[12], 0, keep - 1)
    bump_history(KEYS[16], now, function(v)
      v[{{HISTORY_DROPS}}] = v[{{HISTORY_DROPS}}] + 1
      v[{{HISTORY_WAITED}}] = v[{{HISTORY_WAITED}}] + minutes_between(joined, now)
    end)
  end
end
if ctx then
  if effect == 'notify' and #want > 0 then  -- called to these tables: earlier holds go
    local left = table_left(ctx, want, pid, redis.call('HGET', party, 'tables_left'))
    if left then redis.call('HSET', party, 'tables_left', left) else redis.call('HDEL', party, 'tables_left') end
    release(ctx, had, pid, 'free', name_set(want))
    local group = table.concat(want, ',')
    for _, name in ipairs(want) do
      local s, p = table_state(ctx.states, name)
      if not (s == 'held' and p == pid) then set_table(ctx, name, 'held', pid, group) end
    end
    redis.call('HSET', party, 'tables', group)
  elseif effect == 'seat' then  -- at the tables named, else at those it holds
    local seat_at = #want > 0 and want or had
    release(ctx, had, pid, 'free', name_set(seat_at))
    local group = table.concat(seat_at, ',')
    for _, name in ipairs(seat_at) do set_table(ctx, name, 'occupied', pid, group) end
    redis.call('HSET', party, 'tables', group, 'held_before_seat', table.concat(had, ','),
      'table_seats', seats_of(ctx.floor, seat_at))
  elseif effect == 'drop' then
    release(ctx, had, pid, 'free')
    redis.call('HDEL', party, 'tables')
  elseif effect == 'complete' then
    release(ctx, had, pid, t.clearing and 'cleared' or 'free')
  end
end
redis.call('HSET', party, 'by', t.actor)  -- who acted last: the host stand shows "seated by Mei"
if t.ttl > 0 then redis.call('EXPIRE', party, t.ttl) end
local info = redis.call('HMGET', party, 'joined_at', 'quote_minutes', 'notified_at', 'remote', 'tags',
  'quote_source', 'quote_at', 'tables', 'table_seats', 'f:reservation')
add_event(KEYS[8], 'type', 'status', 'party', pid, 'from', status, 'to', target, 'at', now,
  'actor', t.actor, 'size', size, 'joined', info[1] or '', 'quote', info[2] or '', 'notified', info[3] or '',
  'remote', info[4] or '', 'tags', info[5] or '', 'quote_source', info[6] or '', 'quote_at', info[7] or '',
  'tables', info[8] or '', 'table_seats', info[9] or '', 'reservation', info[10] or '')
-- The head of the line is marked after every transition, but only a party that left the waiting line
-- moved anyone up: only then are the marked parties returned to be texted.
local promoted = promote_almost_ready(waiting, prefix, k)
local result = {'ok', status}
if status == 'waiting' and target ~= 'waiting' then
  for _, p in ipairs(promoted) do table.insert(result, p) end
end
return result
