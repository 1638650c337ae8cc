-- The parties that left the list since a time, whole, in one round trip.
-- KEYS[1] finished zset, KEYS[2] party key prefix (the ids are read here)
-- ARGV[1] JSON: since (epoch seconds)
-- -> JSON: the entries (see includes/list_entries.lua) of parties finished since then, oldest first
--- @include "list_entries"
local a = cjson.decode(ARGV[1])
emit(KEYS[2], redis.call('ZRANGEBYSCORE', KEYS[1], a.since, '+inf'), false)
return encoded()
