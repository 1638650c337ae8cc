-- One change of a webhook endpoint's state, atomic against deliveries finishing at the same time.
-- op 'outcome': a delivery try ended. Success clears failing_since; a failure starts it, and once the
--   endpoint has failed for disable_after seconds without a success it is disabled. The try goes into
--   the delivery log (newest first, trimmed to log_max).
-- op 'enable' / 'disable': a manager's switch (enabling starts the failure clock over).
-- op 'remove': the endpoint goes; with the last one the relay cursor goes too, so a later first
--   endpoint starts from its own registration.
-- KEYS[1] hooks hash, KEYS[2] delivery log, KEYS[3] relay cursor
-- ARGV[1] JSON: op, id, now; ok, disable_after, entry (the log entry's JSON), log_max (outcome)
-- -> {'ok', endpoint JSON or ''} | {'not_found'}
local a = cjson.decode(ARGV[1])
local raw = redis.call('HGET', KEYS[1], a.id)
if not raw then return {'not_found'} end
if a.op == 'remove' then
  redis.call('HDEL', KEYS[1], a.id)
  if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
  return {'ok', ''}
end
local e = cjson.decode(raw)
if a.op == 'outcome' then
  if a.ok then
    e.failing_since = 0
    e.last_success = a.now
  else
    if (e.failing_since or 0) == 0 then e.failing_since = a.now end
    if a.now - e.failing_since >= a.disable_after then e.disabled = true end
  end
  redis.call('LPUSH', KEYS[2], a.entry)
  redis.call('LTRIM', KEYS[2], 0, a.log_max - 1)
elseif a.op == 'enable' then
  e.disabled = false
  e.failing_since = 0
else
  e.disabled = true
end
local stored = cjson.encode(e)
redis.call('HSET', KEYS[1], a.id, stored)
return {'ok', stored}
