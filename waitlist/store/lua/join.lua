-- Put a party on the list: waiting (a place in line), or pending (a remote join the guest has yet to
-- confirm); with its joined text recorded in the same step when it lands where that text says.
-- KEYS[1] line, KEYS[2] sizes hash (see includes/line.lua), KEYS[3] party hash, KEYS[4] waiting zset,
-- KEYS[5] phones hash, KEYS[6] events stream, KEYS[7] seq, KEYS[8] pending zset, KEYS[9] remote set,
-- KEYS[10] the guest link's token, KEYS[11] the number's joins today (the daily cap of remote joins);
-- with a join code (the join page's, confirmed by the guest's text) KEYS[12] its hash, KEYS[13] the open
-- codes zset, KEYS[14] the address's open codes zset; then, with a joined text, the next six keys as
-- record_outbound.lua's KEYS[1..6]
-- ARGV[1] JSON: id, phone, digest (the number's keyed hash), now, actor, status ('waiting' | 'pending'),
--   pending_until (when a pending join expires), remote ('1' | ''), remote_max_active, daily_cap (0: none),
--   joins_ttl, almost_ready_position, token_ttl, text_position (the place the joined text's body names),
--   party (the new party's fields, all strings, party_size and tags among them), text (with a joined
--   text: record_outbound.lua's ARGV[1]), code (with a join code: {code, ticket, keep})
-- -> {'ok', position (0 while pending), text recorded 0|1, opted out 0|1, first contact 0|1}
--    | {'already_waiting', existing id} | {'id_taken'} | {'remote_full'} | {'daily_cap'}
--    | {'code_unknown'} | {'code_expired'} | {'code_used', digest of the number that used it}
-- A refused join changes nothing: a code stays open, and only a join made counts toward the daily cap.
--- @include "add_event"
--- @include "record_text"
--- @include "line"
local join = cjson.decode(ARGV[1])
local id, party = join.id, join.party
local text_keys = 12
if join.code then
  text_keys = 15
  local code = redis.call('HMGET', KEYS[12], 'ticket', 'state', 'expires_at', 'digest')
  if code[1] ~= join.code.ticket then return {'code_unknown'} end
  if code[2] ~= 'open' then return {'code_used', code[4] or ''} end
  if tonumber(code[3]) <= tonumber(join.now) then return {'code_expired'} end
end
local existing = redis.call('HGET', KEYS[5], join.phone)
if existing then return {'already_waiting', existing} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
if join.remote == '1' and redis.call('SCARD', KEYS[9]) >= join.remote_max_active then return {'remote_full'} end
if join.remote == '1' and join.daily_cap > 0 and tonumber(redis.call('GET', KEYS[11]) or '0') >= join.daily_cap then
  return {'daily_cap'}
end
party.status = join.status
local position = 0
if join.status == 'pending' then
  redis.call('ZADD', KEYS[8], join.pending_until, id)
  line_change('pending', id, party.party_size)
else
  redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[7]), id)
  position = redis.call('ZRANK', KEYS[4], id) + 1
  if position <= join.almost_ready_position then party.almost_sent = '1' end
  line_change('joined', id, party.party_size, position, redis.call('ZCARD', KEYS[4]))
end
redis.call('HSET', KEYS[3], unpack(field_pairs(party)))
redis.call('HSET', KEYS[5], join.phone, id)
redis.call('SET', KEYS[10], id, 'EX', join.token_ttl)
if join.remote == '1' then redis.call('SADD', KEYS[9], id) end
if join.remote == '1' and join.daily_cap > 0 then
  redis.call('INCR', KEYS[11])
  redis.call('EXPIRE', KEYS[11], join.joins_ttl)
end
if join.code then
  redis.call('HSET', KEYS[12], 'state', 'joined', 'party', id, 'digest', join.digest, 'token', party.token,
    'joined_at', join.now)
  redis.call('EXPIRE', KEYS[12], join.code.keep)
  redis.call('ZREM', KEYS[13], join.code.code)
  redis.call('ZREM', KEYS[14], join.code.code)
end
add_event(KEYS[6], 'type', 'status', 'party', id, 'from', '', 'to', join.status, 'at', join.now,
  'actor', join.actor, 'size', party.party_size, 'remote', join.remote, 'tags', party.tags or '')
local t = text_keys
if KEYS[t] and join.text_position == position then
  local opted, first = record_text(KEYS[t], KEYS[t + 1], KEYS[t + 2], KEYS[t + 3], KEYS[t + 4], KEYS[t + 5], join.text)
  return {'ok', tostring(position), 1, opted, first}
end
return {'ok', tostring(position), 0, 0, 0}
