-- One bounded slice of a list: at most `count` parties, so no read holds Redis for long whatever the
-- restaurant's size (issue 26: one script over a 3,000-party line held it for 44 ms). A long list is
-- read as several of these, each continuing after the last party the one before returned: a cursor
-- names that party and its score, not an offset, so parties joining or leaving meanwhile neither
-- shift anyone out of the read nor show anyone twice.
-- KEYS[1] party key prefix (the ids are read here), KEYS[2..] the sorted sets walked, in order (the
--   active list: waiting, notified, pending; today's finished parties: finished)
-- ARGV[1] JSON: count (parties in this slice, at most), ranked (the index in KEYS of the set whose
--   ranks are places in line; 0 = none), min (the lowest score listed: '-inf', or the finished set's
--   start of today), after ({set index, score, id} of the last party read before; absent = from the top)
-- -> {entries as JSON (see includes/list_entries.lua), next set index, next score, next id} where the
--    next three are '' once the walk is done
--- @include "list_entries"
local a = cjson.decode(ARGV[1])
local set, last_score, last_id = 2, nil, nil
if a.after then set, last_score, last_id = a.after[1], a.after[2], a.after[3] end
local read = 0

-- The next members after the cursor in `key`, with scores, and the rank of the first. Usually the
-- cursor's party is still there at its score: go on from its rank. If it left or moved, go on from
-- its score (ties at that score are ordered by member, as Redis orders them).
local function slice(key, want)
  if not last_id then
    local found = redis.call('ZRANGEBYSCORE', key, a.min, '+inf', 'WITHSCORES', 'LIMIT', 0, want)
    return found, #found > 0 and redis.call('ZRANK', key, found[1]) or 0
  end
  local rank = redis.call('ZRANK', key, last_id)
  if rank and redis.call('ZSCORE', key, last_id) == last_score then
    return redis.call('ZRANGE', key, rank + 1, rank + want, 'WITHSCORES'), rank + 1
  end
  local found = redis.call('ZRANGEBYSCORE', key, last_score, '+inf', 'WITHSCORES', 'LIMIT', 0, want + 16)
  local kept, score = {}, tonumber(last_score)
  for i = 1, #found, 2 do
    if #kept < want * 2 and not (tonumber(found[i + 1]) == score and found[i] <= last_id) then
      kept[#kept + 1] = found[i]
      kept[#kept + 1] = found[i + 1]
    end
  end
  return kept, #kept > 0 and redis.call('ZRANK', key, kept[1]) or 0
end

while set <= #KEYS and read < a.count do
  local want = a.count - read
  local found, first = slice(KEYS[set], want)
  local ids = {}
  for i = 1, #found, 2 do ids[#ids + 1] = found[i] end
  emit_from(KEYS[1], ids, set == a.ranked and first + 1 or nil)
  read = read + #ids
  if #ids < want then  -- this set is done: the next one from its top
    set, last_score, last_id = set + 1, nil, nil
  else
    last_score, last_id = found[#found], found[#found - 1]
  end
end
-- A full slice that ended the walk says so, sparing the caller a round trip for an empty slice.
local function nothing_after()
  if last_id then
    local rank = redis.call('ZRANK', KEYS[set], last_id)
    if not rank or rank + 1 < redis.call('ZCARD', KEYS[set]) then return false end
  end
  for later = set + 1, #KEYS do
    if redis.call('ZCOUNT', KEYS[later], a.min, '+inf') > 0 then return false end
  end
  return true
end
if set > #KEYS or nothing_after() then return {encoded(), '', '', ''} end
return {encoded(), tostring(set), last_score or '', last_id or ''}
