-- Open a join code for the join page: the party's fields wait under the code until the guest texts it
-- (join.lua then puts the party on the list). Nothing here touches the list.
-- KEYS[1] the code's hash, KEYS[2] the page's ticket key, KEYS[3] the restaurant's open codes zset,
-- KEYS[4] the address's open codes zset, KEYS[5] the remote set (parties from afar on the list)
-- ARGV[1] JSON: code, ticket, now, expires_at, keep (seconds the code is remembered), per_address,
--   per_restaurant, remote_max_active, fields (the party's fields to keep, all strings)
-- -> {'ok'} | {'address_cap', seconds until the address's next code lapses}
--    | {'restaurant_cap', seconds until the restaurant's next code lapses} | {'remote_full'} | {'code_taken'}
local open = cjson.decode(ARGV[1])
local now = tonumber(open.now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local function wait_for(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tostring(math.max(1, math.ceil(tonumber(first[2]) - now)))
end
if redis.call('ZCARD', KEYS[4]) >= open.per_address then return {'address_cap', wait_for(KEYS[4])} end
if redis.call('ZCARD', KEYS[3]) >= open.per_restaurant then return {'restaurant_cap', wait_for(KEYS[3])} end
if redis.call('SCARD', KEYS[5]) >= open.remote_max_active then return {'remote_full'} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'code_taken'} end
local pairs_ = {'state', 'open', 'ticket', open.ticket, 'created_at', open.now, 'expires_at', open.expires_at}
for name, value in pairs(open.fields) do
  pairs_[#pairs_ + 1] = name
  pairs_[#pairs_ + 1] = value
end
redis.call('HSET', KEYS[1], unpack(pairs_))
redis.call('EXPIRE', KEYS[1], open.keep)
redis.call('SET', KEYS[2], open.code, 'EX', open.keep)
redis.call('ZADD', KEYS[3], open.expires_at, open.code)
redis.call('ZADD', KEYS[4], open.expires_at, open.code)
redis.call('EXPIRE', KEYS[4], open.keep)
return {'ok'}
