-- The parties on the list, whole, in one round trip.
-- KEYS[1] waiting zset, KEYS[2] notified zset, KEYS[3] party key prefix (the ids are read here),
-- KEYS[4] pending zset
-- -> JSON: the entries (see includes/list_entries.lua), waiting in queue order, then notified, pending
--- @include "list_entries"
emit(KEYS[3], redis.call('ZRANGE', KEYS[1], 0, -1), true)
emit(KEYS[3], redis.call('ZRANGE', KEYS[2], 0, -1), false)
emit(KEYS[3], redis.call('ZRANGE', KEYS[4], 0, -1), false)
return encoded()
