-- promote_almost_ready(waiting, prefix, k): after parties leave the waiting line (or it is
-- reordered), the first k waiting parties that were never told "almost your turn" are marked,
-- atomically, and returned so the caller can text each exactly once. `prefix` is the party key prefix
-- (KEYS, see waitlist.store.keys): the ids are only known here.
local function promote_almost_ready(waiting, prefix, k)
  local promoted = {}
  if k > 0 then
    local head = redis.call('ZRANGE', waiting, 0, k - 1)
    for _, pid in ipairs(head) do
      if redis.call('HSETNX', prefix .. pid, 'almost_sent', '1') == 1 then
        table.insert(promoted, pid)
      end
    end
  end
  return promoted
end
