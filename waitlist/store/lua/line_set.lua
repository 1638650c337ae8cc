-- Write the line key worked out in slices (waitlist.store.listing.build_line), unless the line changed
-- meanwhile: the build marked the key '~<token>' before its first slice, and every change of the line
-- drops a key it cannot read (includes/line.lua), so the mark still there means nothing changed.
-- KEYS[1] line
-- ARGV[1] JSON: token, line (the whole value, '=...', see includes/line.lua)
-- -> 1 written | 0 the line changed (or another build took over): read it again
local a = cjson.decode(ARGV[1])
if redis.call('GET', KEYS[1]) ~= '~' .. a.token then return 0 end
redis.call('SET', KEYS[1], a.line, 'EX', {{LINE_TTL}})
return 1
