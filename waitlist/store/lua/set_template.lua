-- Reword one text of a restaurant, or give it back its built-in wording, atomically (two managers
-- saving different texts at once both keep theirs). The templates live in the restaurant hash's
-- "templates" field as one JSON object {"en": {"joined": "..."}, "zh": {...}}, so every read of the
-- restaurant brings them (waitlist.texting.templates).
-- KEYS[1] restaurant hash
-- ARGV[1] JSON: language, kind, body ('' for the built-in text), most (the most templates per language)
-- -> {'ok', stored JSON ('' for none)} | {'not_found'} | {'too_many'}
local a = cjson.decode(ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'name') == 0 then return {'not_found'} end
local raw = redis.call('HGET', KEYS[1], 'templates')
local all = (raw and raw ~= '') and cjson.decode(raw) or {}
local texts = all[a.language] or {}
if a.body == '' then
  texts[a.kind] = nil
else
  local count = 0
  for k in pairs(texts) do if k ~= a.kind then count = count + 1 end end
  if count >= a.most then return {'too_many'} end
  texts[a.kind] = a.body
end
if next(texts) == nil then all[a.language] = nil else all[a.language] = texts end
if next(all) == nil then
  redis.call('HDEL', KEYS[1], 'templates')
  return {'ok', ''}
end
local stored = cjson.encode(all)
redis.call('HSET', KEYS[1], 'templates', stored)
return {'ok', stored}
