-- A worker about to send a text claims it, so no two sends of it race, and an opted-out number's
-- text is suppressed at the last moment.
-- KEYS[1] message hash, KEYS[2] opt-out set, KEYS[3] unsent zset (a message that will never be sent
--   leaves it)
-- ARGV[1] JSON: now, digest (keyed hash of the recipient), id (the message's)
-- -> 'claimed' (send it) | 'ambiguous' (an earlier attempt may have reached Twilio) | 'done'
--    | 'opted_out' | 'missing'
local a = cjson.decode(ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'status', 'sid', 'claimed_at')
if not m[1] then return 'missing' end
if (m[2] and m[2] ~= '') or m[1] ~= 'queued' then
  redis.call('ZREM', KEYS[3], a.id)
  return 'done'
end
if redis.call('SISMEMBER', KEYS[2], a.digest) == 1 then
  redis.call('HSET', KEYS[1], 'status', 'suppressed', 'error_code', 'opted_out', 'updated_at', a.now)
  redis.call('ZREM', KEYS[3], a.id)
  return 'opted_out'
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if m[3] and m[3] ~= '' then return 'ambiguous' end
redis.call('HSET', KEYS[1], 'claimed_at', a.now)
return 'claimed'
