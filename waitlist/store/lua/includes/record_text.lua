--- @include "fields"
-- record_text(msg, conv, optout, outbox, unsent, latch, text): store an outbound text and append it to
-- its conversation. An opted-out number's text is kept as 'suppressed'; given a latch key, the
-- restaurant's first text to the number takes `first_body` instead. Given `relay_slug`, a text to send
-- goes in the restaurant's outbox and the slug is published, for a worker's relay to queue its send,
-- and in the unsent index (scored by its time) until it has a SID or a final status, so a relay's
-- lost-text sweep finds it if its send job is lost (workers.relay).
-- `text` is the decoded object built by waitlist.store.messages.record_text_args: {message = its
-- fields (strings), digest, ttl, latch_ttl, first_body, in_conv, relay_slug}.
-- -> opted out 0|1, first contact 0|1
local function record_text(msg, conv, optout, outbox, unsent, latch, text)
  local message, relay_slug = text.message, text.relay_slug
  local opted = redis.call('SISMEMBER', optout, text.digest)
  local first = 0
  if latch and redis.call('SET', latch, '1', 'NX', 'EX', text.latch_ttl) then
    first = 1
    message.body = text.first_body
  end
  if opted == 1 then message.status, message.error_code = 'suppressed', 'opted_out' end
  redis.call('HSET', msg, unpack(field_pairs(message)))
  if opted == 0 and relay_slug ~= '' then
    redis.call('ZADD', outbox, message.created_at, message.id)
    redis.call('ZADD', unsent, message.created_at, message.id)
    redis.call('PUBLISH', '{{OUTBOX_CHANNEL}}', relay_slug)
  end
  redis.call('EXPIRE', msg, text.ttl)
  if text.in_conv then
    if redis.call('RPUSH', conv, message.id) > 500 then redis.call('LTRIM', conv, -500, -1) end
    redis.call('EXPIRE', conv, text.ttl)
  end
  return opted, first
end
