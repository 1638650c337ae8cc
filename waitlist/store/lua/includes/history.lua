-- The estimator's hour-of-week history (format: waitlist.store.codec, HISTORY_*): field
-- "h:<(epoch hour) mod 168>" holds {{HISTORY_LENGTH}} numbers. The transition script bumps it as a
-- party is seated, completes or drops out, so reading it (the snapshot) writes nothing.

-- bump_history(hist, ts, fn): fn(v) changes the numbers of ts's hour (v is 1-based); counts are
-- halved past {{HISTORY_HALVE_AT}} so old weeks fade and the hash stays at most 168 short fields.
local function bump_history(hist, ts, fn)
  local field = 'h:' .. (math.floor(tonumber(ts) / 3600) % 168)
  local v = {}
  local raw = redis.call('HGET', hist, field)
  if raw then for x in string.gmatch(raw, '%S+') do table.insert(v, tonumber(x)) end end
  for i = #v + 1, {{HISTORY_LENGTH}} do v[i] = 0 end
  fn(v)
  for i = 1, {{HISTORY_TURN_FIELDS}}, 2 do
    if v[i] > {{HISTORY_HALVE_AT}} then v[i], v[i + 1] = v[i] / 2, v[i + 1] / 2 end
  end
  local s, d, w = {{HISTORY_SEATINGS}}, {{HISTORY_DROPS}}, {{HISTORY_WAITED}}
  if v[s] + v[d] > 2 * {{HISTORY_HALVE_AT}} then v[s], v[d], v[w] = v[s] / 2, v[d] / 2, v[w] / 2 end
  local parts = {}
  for i = 1, {{HISTORY_LENGTH}} do parts[i] = string.format('%.6g', v[i]) end
  redis.call('HSET', hist, field, table.concat(parts, ' '))
end

-- The 1-based place of the turn count of a party size's bucket; its dining minutes follow it.
local HISTORY_SIZE_LIMITS = { {{HISTORY_SIZE_LIMITS}} }
local function size_bucket(size)
  size = tonumber(size)
  for i, most in ipairs(HISTORY_SIZE_LIMITS) do
    if size <= most then return 2 * i - 1 end
  end
  return 2 * #HISTORY_SIZE_LIMITS + 1
end

local function minutes_between(from, to)
  return math.max(0, tonumber(to) - tonumber(from)) / 60
end
