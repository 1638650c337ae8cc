-- Register a webhook endpoint. Its restaurant's relay cursor starts at the newest event when it has
-- none, so a first endpoint gets what happens from now on, not the stream's past.
-- KEYS[1] hooks hash, KEYS[2] relay cursor, KEYS[3] events stream
-- ARGV[1] JSON: id, endpoint (the endpoint's JSON), most (the most endpoints per restaurant)
-- -> {'ok'} | {'too_many'}
local a = cjson.decode(ARGV[1])
if redis.call('HLEN', KEYS[1]) >= a.most then return {'too_many'} end
redis.call('HSET', KEYS[1], a.id, a.endpoint)
if redis.call('EXISTS', KEYS[2]) == 0 then
  local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
  redis.call('SET', KEYS[2], last[1] and last[1][1] or '0-0')
end
return {'ok'}
