-- Take a booking code from the booking page (a join code whose fields say kind=booking) for the number
-- that texted it: once, before it expires. The booking follows (reserve.lua); a code taken whose booking
-- is then refused (the slot went meanwhile) stays used, and the guest is told by text.
-- KEYS[1] the code's hash, KEYS[2] the restaurant's open codes zset, KEYS[3] the address's open codes zset
-- ARGV[1] JSON: code, now, digest (the number's keyed hash), keep (seconds the used code is remembered)
-- -> {'ok'} | {'not_booking'} | {'code_unknown'} | {'code_used', digest} | {'code_expired'}
local a = cjson.decode(ARGV[1])
local code = redis.call('HMGET', KEYS[1], 'ticket', 'state', 'expires_at', 'digest', 'kind')
if not code[1] then return {'code_unknown'} end
if code[5] ~= 'booking' then return {'not_booking'} end
if code[2] ~= 'open' then return {'code_used', code[4] or ''} end
if tonumber(code[3]) <= tonumber(a.now) then return {'code_expired'} end
redis.call('HSET', KEYS[1], 'state', 'joined', 'digest', a.digest)
redis.call('EXPIRE', KEYS[1], a.keep)
redis.call('ZREM', KEYS[2], a.code)
redis.call('ZREM', KEYS[3], a.code)
return {'ok'}
