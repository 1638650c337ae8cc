-- A reservation's reminder or grace timer fires: if the reservation is still in a state the timer is for
-- and its timer version is the one the timer was scheduled with, latch the timer and record its text in
-- the same script, so the text is recorded exactly once however often the job runs (a worker killed
-- after this script and before RQ noted the job done runs it again; the latch answers 'done').
-- KEYS[1] the reservation's hash, KEYS[2..6] the text's keys (record_outbound.lua's KEYS[1..5]; KEYS[7] its latch)
-- ARGV[1] JSON: kind (reminder | no_show), version, statuses (in which the timer applies), now, text
--   (record_outbound.lua's object; an empty body: latch only, no text)
-- -> {'ok', opted out 0|1} | {'stale'} | {'done'} | {'not_found'}
--- @include "record_text"
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if redis.call('HGET', KEYS[1], 'timer_version') ~= a.version then return {'stale'} end
local status = redis.call('HGET', KEYS[1], 'status')
local applies = false
for _, s in ipairs(a.statuses) do if s == status then applies = true end end
if not applies then return {'stale'} end
if redis.call('HSETNX', KEYS[1], 'timer:' .. a.kind .. ':' .. a.version, a.now) == 0 then return {'done'} end
local opted = 0
if a.text.message.body ~= '' then
  opted = record_text(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], a.text)
end
return {'ok', opted}
