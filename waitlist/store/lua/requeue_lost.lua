-- A relay's lost-text sweep (workers.relay): puts back in the outbox the texts of the unsent index
-- whose send job is gone (a dead worker's connection popped it and nobody ran it, or RQ dropped it),
-- so a relay queues their send again; the send's claim keeps each sent once.
-- KEYS[1] unsent zset, KEYS[2] outbox zset, KEYS[3..n+2] the messages' hashes (ARGV's ids, in order)
-- ARGV[1] JSON: ids, live (per id: true when RQ still holds a live send job for it), now,
--   stale_before (a claim newer than this may still be in a send), look_again (the score of a text
--   it leaves or requeues: the sweep looks at it again once that is older than its bound), most (requeues before a text is given up)
-- -> {requeued ids, given-up ids}. A given-up text stays indexed until the caller marks it failed
--    (advance_status takes it out), so a caller that dies first gives it up again on the next sweep.
local a = cjson.decode(ARGV[1])
local requeued, lost = {}, {}
for i, id in ipairs(a.ids) do
  local m = redis.call('HMGET', KEYS[i + 2], 'status', 'sid', 'claimed_at', 'requeues')
  if not m[1] or (m[2] and m[2] ~= '') or m[1] ~= 'queued' then
    redis.call('ZREM', KEYS[1], id)
  elseif a.live[i] or redis.call('ZSCORE', KEYS[2], id)
      or (m[3] and m[3] ~= '' and tonumber(m[3]) > tonumber(a.stale_before)) then
    redis.call('ZADD', KEYS[1], a.look_again, id)
  elseif tonumber(m[4] or '0') >= a.most then
    lost[#lost + 1] = id
  else
    redis.call('HINCRBY', KEYS[i + 2], 'requeues', 1)
    redis.call('ZADD', KEYS[2], a.now, id)
    redis.call('ZADD', KEYS[1], a.look_again, id)
    requeued[#requeued + 1] = id
  end
end
return {requeued, lost}
