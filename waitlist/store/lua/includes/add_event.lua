-- add_event(stream, field, value, ...): append one entry to the restaurant's audit stream (the
-- stats fold and the live pages read it), trimmed to about {{EVENTS_MAXLEN}} entries.
local function add_event(stream, ...)
  redis.call('XADD', stream, 'MAXLEN', '~', {{EVENTS_MAXLEN}}, '*', ...)
end
