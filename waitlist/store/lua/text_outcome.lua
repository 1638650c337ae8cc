-- Keep a party's sms_failed flag true to its latest text, in one step (two reports racing must not
-- leave a newer failure cleared): the flag holds the created_at of the newest text that failed; a text
-- that reached the carrier clears it when that text is at least as new, unless the number opted out.
-- A flag holding "1" (set before it held a time) counts as long ago.
-- KEYS[1] party hash, KEYS[2] events stream
-- ARGV[1] JSON: id, created_at (the text's, epoch seconds as a string; '' when unknown), failed (true:
--   the text failed; false: it reached the carrier), now, actor
-- -> 1 when the flag changed, else 0 (also when there is no such party)
--- @include "add_event"
local o = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local m = redis.call('HMGET', KEYS[1], 'f:sms_failed', 'f:opted_out')
local held_at = nil
if m[1] and m[1] ~= '' then held_at = tonumber(m[1]) or 1 end
local text_at = tonumber(o.created_at)
if o.failed then
  if held_at and held_at >= (text_at or 1) then return 0 end
  redis.call('HSET', KEYS[1], 'f:sms_failed', text_at and o.created_at or '1')
else
  if not held_at or (m[2] and m[2] ~= '') or not text_at or text_at < held_at then return 0 end
  redis.call('HDEL', KEYS[1], 'f:sms_failed')
end
add_event(KEYS[2], 'type', 'flag', 'party', o.id, 'fields', 'f:sms_failed', 'at', o.now, 'actor', o.actor)
return 1
