-- Put a party on the list: waiting (a place in line), or pending (a remote join the guest has yet to
-- confirm); with its joined text recorded in the same step when it lands where that text says.
-- KEYS[1] line, KEYS[2] sizes hash (see includes/line.lua), KEYS[3] party hash, KEYS[4] waiting zset,
-- KEYS[5] phones hash, KEYS[6] events stream, KEYS[7] seq, KEYS[8] pending zset, KEYS[9] remote set,
-- KEYS[10] the guest link's token; with a joined text, KEYS[11..16] as record_outbound.lua's KEYS[1..6]
-- ARGV[1] JSON: id, phone, now, actor, status ('waiting' | 'pending'), pending_until (when a pending
--   join expires), remote ('1' | ''), remote_max_active, almost_ready_position, token_ttl,
--   text_position (the place the joined text's body names), party (the new party's fields, all
--   strings, party_size and tags among them), text (with a joined text: record_outbound.lua's ARGV[1])
-- -> {'ok', position (0 while pending), text recorded 0|1, opted out 0|1, first contact 0|1}
--    | {'already_waiting', existing id} | {'id_taken'} | {'remote_full'}
--- @include "add_event"
--- @include "record_text"
--- @include "line"
local join = cjson.decode(ARGV[1])
local id, party = join.id, join.party
local existing = redis.call('HGET', KEYS[5], join.phone)
if existing then return {'already_waiting', existing} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
if join.remote == '1' and redis.call('SCARD', KEYS[9]) >= join.remote_max_active then return {'remote_full'} end
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
add_event(KEYS[6], 'type', 'status', 'party', id, 'from', '', 'to', join.status, 'at', join.now,
  'actor', join.actor, 'size', party.party_size, 'remote', join.remote, 'tags', party.tags or '')
if KEYS[11] and join.text_position == position then
  local opted, first = record_text(KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15], KEYS[16], join.text)
  return {'ok', tostring(position), 1, opted, first}
end
return {'ok', tostring(position), 0, 0, 0}
