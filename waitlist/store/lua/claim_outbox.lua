-- A relay takes the texts due in a restaurant's outbox, leasing them so no other relay takes them too.
-- KEYS[1] outbox zset
-- ARGV[1] JSON: now, lease (seconds), limit (most ids)
-- -> ids of the texts due now, each now leased to the caller (its score moved to the lease's end)
local a = cjson.decode(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', a.now, 'LIMIT', 0, a.limit)
local lease_end = tonumber(a.now) + a.lease
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], lease_end, id) end
return ids
