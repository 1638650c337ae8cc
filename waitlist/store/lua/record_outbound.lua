-- Record an outbound text in one round trip (see includes/record_text.lua).
-- KEYS[1] message hash, KEYS[2] conversation list (the message's own key when it has no party),
-- KEYS[3] opt-out set, KEYS[4] outbox zset, KEYS[5] unsent zset, KEYS[6] the first-contact latch (only with a
-- first-contact body)
-- ARGV[1] JSON: message (its fields, strings, id and created_at among them), digest (the recipient's),
--   ttl (the message's), latch_ttl, first_body, in_conv (whether it joins the party's conversation),
--   relay_slug (the slug to relay it for; '' when the caller hands it over itself)
-- -> {opted out 0|1, first contact 0|1}
--- @include "record_text"
return {record_text(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], cjson.decode(ARGV[1]))}
