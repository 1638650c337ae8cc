-- Named tables (waitlist.domain.tables, waitlist.store.tables). The floor is the restaurant hash's
-- "floor" field (a JSON list of {name, seats, min_seats, section, joins_with}); each table's state is a
-- field of the table states hash: name -> "state|party|since", state one of held, occupied, cleared,
-- blocked, free (a table with no field is free). A table holds at most one party because it is one
-- field; a party's tables are its hash's "tables" field ("12,13"). Every change appends a 'table' event:
-- table, party, from, to, at, since (when the state it left began), seats, floor_seats (all seats of
-- the floor), tables (the party's tables), actor, undo ('1' when an undo made it).
--- @include "add_event"

-- floor_map(restaurant) -> name -> table, total seats ({} and 0 without named tables)
local function floor_map(restaurant)
  local raw = redis.call('HGET', restaurant, 'floor')
  local map, total = {}, 0
  if raw and raw ~= '' then
    for _, t in ipairs(cjson.decode(raw)) do
      map[t.name] = t
      total = total + t.seats
    end
  end
  return map, total
end

-- table_state(states, name) -> state, party ('' for none), since ('' when unknown)
local function table_state(states, name)
  local raw = redis.call('HGET', states, name)
  if not raw then return 'free', '', '' end
  local s, p, since = string.match(raw, '^([^|]*)|([^|]*)|(.*)$')
  return s, p, since
end

local function split_names(list)
  local out = {}
  for name in string.gmatch(list or '', '[^,]+') do out[#out + 1] = name end
  return out
end

local function name_set(names)
  local set = {}
  for _, n in ipairs(names) do set[n] = true end
  return set
end

-- set_table(ctx, name, to, party, group, kept): write a table's state and append its event. ctx: {states,
-- events, floor, total, now, actor, undo}. The event names the party it leaves when it gets none, and
-- says 'undo' when a host's undo made the change (the owner's turn times leave such a seat out). The
-- state's since is now, or `kept` (a cleared table the host marks ready stays free since its party left).
local function set_table(ctx, name, to, party, group, kept)
  local from, was, since = table_state(ctx.states, name)
  redis.call('HSET', ctx.states, name, to .. '|' .. party .. '|' .. (kept or ctx.now))
  local t = ctx.floor[name]
  add_event(ctx.events, 'type', 'table', 'table', name, 'party', party ~= '' and party or was, 'from', from,
    'to', to, 'at', ctx.now, 'since', since, 'seats', t and t.seats or 0, 'floor_seats', ctx.total,
    'tables', group or '', 'actor', ctx.actor, 'undo', ctx.undo and '1' or '')
end

-- seats_of(floor, names) -> the seats of those tables together
local function seats_of(floor, names)
  local n = 0
  for _, name in ipairs(names) do n = n + (floor[name] and floor[name].seats or 0) end
  return n
end

-- refuse_tables(floor, states, names, pid, size): why party pid (of size) cannot have those tables, as a
-- sentinel reply; nil when it can. They must exist, connect through joins_with, seat the party, and be
-- neither blocked nor another party's (a clearing table may be taken: the host sees it is ready).
local function refuse_tables(floor, states, names, pid, size)
  for _, name in ipairs(names) do
    if not floor[name] then return {'no_table', name} end
  end
  local want, seen, stack, count = name_set(names), {[names[1]] = true}, {names[1]}, 1
  while #stack > 0 do
    local n = table.remove(stack)
    for _, m in ipairs(floor[n].joins_with) do
      if want[m] and not seen[m] then
        seen[m], count = true, count + 1
        stack[#stack + 1] = m
      end
    end
  end
  if count < #names then return {'not_joinable', table.concat(names, ',')} end
  if seats_of(floor, names) < tonumber(size) then return {'too_big', tostring(seats_of(floor, names))} end
  for _, name in ipairs(names) do
    local s, p = table_state(states, name)
    if s == 'blocked' then return {'table_blocked', name} end
    if (s == 'held' or s == 'occupied') and p ~= pid then return {'table_taken', name, p} end
  end
  return nil
end

-- table_left(ctx, names, pid, held_left) -> when the last of those tables was left free (its party
-- gone, or the table unblocked or let go), nil where unknown: a free or cleared table's since, or, for a
-- table pid holds, `held_left` (the party's 'tables_left', kept by the notify that held it).
local function table_left(ctx, names, pid, held_left)
  local last = nil
  for _, name in ipairs(names) do
    local s, p, since = table_state(ctx.states, name)
    local at = nil
    if s == 'held' and p == pid then at = tonumber(held_left or '')
    elseif s == 'free' or s == 'cleared' then at = tonumber(since) end
    if not at then return nil end
    if not last or at > last then last = at end
  end
  return last
end

-- release(ctx, names, pid, to, keep): tables of `names` still held or occupied by pid go to `to`
-- (free, or cleared after a meal), except those in the set `keep`.
local function release(ctx, names, pid, to, keep)
  for _, name in ipairs(names) do
    local s, p = table_state(ctx.states, name)
    if p == pid and (s == 'held' or s == 'occupied') and not (keep and keep[name]) then
      set_table(ctx, name, to, '', table.concat(names, ','))
    end
  end
end
