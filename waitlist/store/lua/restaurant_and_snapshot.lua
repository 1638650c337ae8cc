-- A host's add needs the restaurant (to check the API key) and the snapshot (to quote), and round
-- trips are most of its cost: both in one. Only a valid key reads the snapshot, unless the read is for
-- a public figure (the public estimate: the restaurant to check the request, the snapshot to answer).
-- KEYS[1..12] as includes/snapshot.lua's read_snapshot (KEYS[1] line, KEYS[2] sizes hash, ..., KEYS[11]
-- restaurant hash)
-- ARGV[1] JSON: key_hash (hash of the API key offered; '' for none), or public: true (no key checked)
-- -> {restaurant fields flat, read_snapshot's reply or {} when the key is not the restaurant's}
--- @include "snapshot"
local a = cjson.decode(ARGV[1])
local fields, key_hash = redis.call('HGETALL', KEYS[11]), nil
for i = 1, #fields, 2 do
  if fields[i] == 'api_key_hash' then key_hash = fields[i + 1] end
end
if a.public ~= true and (a.key_hash == '' or key_hash ~= a.key_hash) then return {fields, {}} end
return {fields, read_snapshot()}
