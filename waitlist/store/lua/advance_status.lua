-- Move a text's status forward only (by rank: waitlist.domain.messages.STATUS_RANK); duplicates and
-- late callbacks are ignored.
-- KEYS[1] message hash, KEYS[2] events stream, KEYS[3] unsent zset (a message with a SID or past
--   'queued' leaves it: the lost-text sweep has nothing more to do for it)
-- ARGV[1] JSON: id (the message's), status (new), rank (its rank; -1 when unknown), now, error_code ('' = none), sid ('' =
--   keep; recorded whatever the status, so a send's SID is never lost to a callback that arrived
--   first), ranks (each known status -> its rank)
-- -> {'updated', party id, kind} | {'ignored'} | {'missing'}
--- @include "add_event"
local a = cjson.decode(ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'status', 'party', 'kind', 'id')
if not m[1] then return {'missing'} end
if a.sid ~= '' then
  redis.call('HSET', KEYS[1], 'sid', a.sid, 'updated_at', a.now)
  redis.call('ZREM', KEYS[3], a.id)
end
if (a.ranks[m[1]] or 0) >= a.rank then return {'ignored'} end
redis.call('HSET', KEYS[1], 'status', a.status, 'updated_at', a.now)
if a.status ~= 'queued' then redis.call('ZREM', KEYS[3], a.id) end
if a.error_code ~= '' then redis.call('HSET', KEYS[1], 'error_code', a.error_code) end
add_event(KEYS[2], 'type', 'sms', 'message', m[4] or '', 'party', m[2] or '', 'kind', m[3] or '',
  'from', m[1], 'to', a.status, 'at', a.now)
return {'updated', m[2] or '', m[3] or ''}
