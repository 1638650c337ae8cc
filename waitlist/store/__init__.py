"""The one module that owns Redis: every key name, every Lua script, every round trip.

Key schema (``{slug}`` is a Redis Cluster hash tag, so one restaurant's keys share one slot and every
script stays single-slot):

    wl:{slug}:restaurant        hash   restaurant fields, settings (JSON), api_key_hash, code
    wl:{slug}:token:<token>     string id of the party behind a guest status link (set by the join)
    wl:{slug}:party:<id>        hash   one party; expires some time after it leaves the list
    wl:{slug}:waiting           zset   waiting party ids, score = queue order
    wl:{slug}:notified          zset   notified party ids, score = first notified time
    wl:{slug}:pending           zset   remote joins awaiting the guest's confirmation, score = expiry
    wl:{slug}:remote            set    ids of remote parties on the list (capped by remote_max_active)
    wl:{slug}:joins:<digest>:<day> string joins by one number that day (daily cap), expires
    wl:{slug}:phones            hash   E.164 phone -> id of its party on the list
    wl:{slug}:sizes             hash   party id -> party size, for every party on the list (pending,
                                       waiting, notified): one HGETALL when the line key below is missing
    wl:{slug}:line              string the sizes of the waiting and notified parties in order, "2 4|6",
                                       as the snapshot reads them (joins extend it, other changes drop it)
    wl:{slug}:finished          zset   ids of parties that left the list, score = time (trimmed to 36 h)
    wl:{slug}:events            stream audit trail of every change (trimmed to ~10,000 entries)
    wl:{slug}:seq               string join counter giving queue order
    wl:{slug}:recent:<kind>     list   last 200 seatings / turns / drop-outs, for the estimator
    wl:{slug}:history           hash   estimator's hour-of-week history: at most 168 "h:<hour>" fields,
                                       kept by the transition script (see _HISTORY)
    wl:{slug}:msg:<id>          hash   one text message, in or out (see waitlist.messaging)
    wl:{slug}:conv:<party>      list   message ids of a party's conversation
    wl:{slug}:optout            set    keyed hashes of numbers that texted STOP here
    wl:{slug}:outbox            zset   recorded texts not yet handed to RQ, score = when a relay may take
                                       them (recorded time, then the end of a relay's lease)
    wl:{slug}:inbound:<sid>     string Twilio MessageSid already handled (expires after a day)
    wl:restaurants              set    every slug (admin listing)
    wl:apikey:<sha256>          string slug owning that key (tells 403 from 401)
    wl:smsfrom:<e164>           string slug texting from that number (routes inbound texts)
    wl:code:<code>              string slug of the restaurant whose guest links start with that code
    wl:token:<token>            string "<slug>/<party id>": links given before they carried a code (read only)
    wl:{slug}:stats:cursor      string id of the last event folded into the stats (the fold's version)
    wl:{slug}:stats:day:<date>  hash   one service day's anonymous counters and wait histograms (kept)
    wl:{slug}:stats:month:<YYYY-MM> hash the same counters summed over a calendar month (long ranges)
    wl:{slug}:stats:seen:<date> set    "t:<party>"/"r:<party>": texted / replied parties counted that day
    wl:{slug}:stats:fin:<party> string a finish's counter increments, so an undo can take them back (1 day)
    wl:{slug}:visits:<date>     hash   party id -> visit record (JSON, name and phone): the CSV export;
                                       expires retention_days after the day

Global keys are only ever touched one at a time, never inside a script with tagged keys. A guest
link's token starts with its restaurant's code, so the link's key lives in the restaurant's slot and
the join script writes it with the party.
Scripts that put a text in an outbox also PUBLISH the restaurant's slug on ``wl:outbox`` (a channel,
not a key), which wakes the workers' relays (workers.relay).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from redis import Redis

from waitlist.domain.model import CODE_LENGTH, Party, Restaurant, Settings, Status
from waitlist.estimate.estimator import Snapshot

FINISHED_KEEP_SECONDS = 36 * 3600
"""Finished parties stay listable for "today" plus a margin for late-night services."""

FINISHED_PARTY_TTL_SECONDS = 3 * 24 * 3600
TOKEN_TTL_SECONDS = 3 * 24 * 3600
EVENTS_MAXLEN = 10_000
RECENT_MAXLEN = 200
LINE_TTL_SECONDS = 24 * 3600


def tag(slug: str) -> str:
    return f"wl:{{{slug}}}"


def restaurant_key(slug: str) -> str:
    return f"{tag(slug)}:restaurant"


def party_prefix(slug: str) -> str:
    return f"{tag(slug)}:party:"


def party_key(slug: str, party_id: str) -> str:
    return party_prefix(slug) + party_id


def waiting_key(slug: str) -> str:
    return f"{tag(slug)}:waiting"


def notified_key(slug: str) -> str:
    return f"{tag(slug)}:notified"


def pending_key(slug: str) -> str:
    return f"{tag(slug)}:pending"


def remote_key(slug: str) -> str:
    return f"{tag(slug)}:remote"


def phones_key(slug: str) -> str:
    return f"{tag(slug)}:phones"


def sizes_key(slug: str) -> str:
    return f"{tag(slug)}:sizes"


def line_key(slug: str) -> str:
    """The sizes of the waiting and the notified parties in queue order, "2 4 2|6", as the snapshot
    reads them (see _READ_SNAPSHOT): kept by the join, dropped by every other change of the line."""
    return f"{tag(slug)}:line"


def finished_key(slug: str) -> str:
    return f"{tag(slug)}:finished"


def events_key(slug: str) -> str:
    return f"{tag(slug)}:events"


def seq_key(slug: str) -> str:
    return f"{tag(slug)}:seq"


def recent_key(slug: str, kind: str) -> str:
    return f"{tag(slug)}:recent:{kind}"


def history_key(slug: str) -> str:
    return f"{tag(slug)}:history"


def message_prefix(slug: str) -> str:
    return f"{tag(slug)}:msg:"


def message_key(slug: str, message_id: str) -> str:
    return message_prefix(slug) + message_id


def conversation_key(slug: str, party_id: str) -> str:
    return f"{tag(slug)}:conv:{party_id}"


def optout_key(slug: str) -> str:
    return f"{tag(slug)}:optout"


def outbox_key(slug: str) -> str:
    return f"{tag(slug)}:outbox"


OUTBOX_CHANNEL = "wl:outbox"


def inbound_seen_key(slug: str, message_sid: str) -> str:
    return f"{tag(slug)}:inbound:{message_sid}"


def restaurants_key() -> str:
    return "wl:restaurants"


def apikey_key(key_hash: str) -> str:
    return f"wl:apikey:{key_hash}"


def sms_from_key(e164: str) -> str:
    return f"wl:smsfrom:{e164}"


def code_key(code: str) -> str:
    return f"wl:code:{code}"


def token_key(slug: str, token: str) -> str:
    return f"{tag(slug)}:token:{token}"


def legacy_token_key(token: str) -> str:
    """Where links given before tokens carried their restaurant's code point (they expire in 3 days)."""
    return f"wl:token:{token}"


# --- Lua -------------------------------------------------------------------------------------------
# Shared snippet: after parties leave the waiting line (or it is reordered), the first K waiting
# parties that were never told "almost your turn" are marked, atomically, and returned so the caller
# can text each exactly once. Expects `waiting`, `prefix`, `k` locals.
_PROMOTE_ALMOST_READY = """
local promoted = {}
if k > 0 then
  local head = redis.call('ZRANGE', waiting, 0, k - 1)
  for _, pid in ipairs(head) do
    if redis.call('HSETNX', prefix .. pid, 'almost_sent', '1') == 1 then
      table.insert(promoted, pid)
    end
  end
end
"""

_XADD = f"""
local function add_event(stream, ...)
  redis.call('XADD', stream, 'MAXLEN', '~', {EVENTS_MAXLEN}, '*', ...)
end
"""

# The estimator's hour-of-week history (KEYS named by the caller): field "h:<(epoch hour) mod 168>" holds
# 11 numbers, "n s" (turns counted, dining minutes summed) for parties of 1-2, 3-4, 5-6 and 7+ by the hour
# they were seated, then seatings, drop-outs and minutes waited by the hour they left the line. Counts are
# halved past 200 (400), so old weeks fade and the hash stays at most 168 short fields. The transition
# script bumps it as a party is seated, completes or drops out, so reading it (SNAPSHOT_LUA) writes nothing.
_HISTORY = """
local function bump_history(hist, ts, fn)
  local field = 'h:' .. (math.floor(tonumber(ts) / 3600) % 168)
  local v = {}
  local raw = redis.call('HGET', hist, field)
  if raw then for x in string.gmatch(raw, '%S+') do table.insert(v, tonumber(x)) end end
  for i = #v + 1, 11 do v[i] = 0 end
  fn(v)
  for i = 1, 8, 2 do
    if v[i] > 200 then v[i], v[i + 1] = v[i] / 2, v[i + 1] / 2 end
  end
  if v[9] + v[10] > 400 then v[9], v[10], v[11] = v[9] / 2, v[10] / 2, v[11] / 2 end
  local parts = {}
  for i = 1, 11 do parts[i] = string.format('%.6g', v[i]) end
  redis.call('HSET', hist, field, table.concat(parts, ' '))
end
local function size_bucket(size)
  size = tonumber(size)
  if size <= 2 then return 1 elseif size <= 4 then return 3 elseif size <= 6 then return 5 end
  return 7
end
local function minutes_between(from, to)
  return math.max(0, tonumber(to) - tonumber(from)) / 60
end
"""

# Shared snippet: a JSON object of string fields (cjson) as HSET's field/value arguments. The hot scripts
# (join, text record) take their values as JSON objects rather than one argument per value: redis-py
# packs each argument in Python (about 2,800 instructions each), and a join's 80 arguments, now 17 (15
# of them keys), cost 8% of an add. A hash's values must be strings: cjson would turn a number into a
# Lua number, which HSET writes in its own format; numbers are for comparisons and TTLs only.
_FIELDS = """
local function field_pairs(object)
  local flat = {}
  for field, value in pairs(object) do
    flat[#flat + 1] = field
    flat[#flat + 1] = value
  end
  return flat
end
"""

# Shared snippet: store an outbound text and append it to its conversation. An opted-out number's
# text is kept as 'suppressed'; given a latch key, the restaurant's first text to the number takes
# `first_body` instead. Given `relay_slug`, a text to send goes in the restaurant's outbox and the slug
# is published, for a worker's relay to queue its send. `text` is the decoded JSON argument built by
# _record_text_params: {message = its fields, digest, ttl, latch_ttl, first_body, in_conv, relay_slug}.
# -> opted out, first contact
_RECORD_TEXT = _FIELDS + f"""
local function record_text(msg, conv, optout, outbox, latch, text)
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
    redis.call('PUBLISH', '{OUTBOX_CHANNEL}', relay_slug)
  end
  redis.call('EXPIRE', msg, text.ttl)
  if text.in_conv then
    if redis.call('RPUSH', conv, message.id) > 500 then redis.call('LTRIM', conv, -500, -1) end
    redis.call('EXPIRE', conv, text.ttl)
  end
  return opted, first
end
"""

# The line key's life: a restaurant that goes quiet does not keep it.
_LINE_TTL = f"""
local LINE_TTL = {LINE_TTL_SECONDS}
"""

# KEYS[1] party hash, KEYS[2] waiting zset, KEYS[3] phones hash, KEYS[4] events stream, KEYS[5] seq,
# KEYS[6] pending zset, KEYS[7] remote set, KEYS[8] sizes hash, KEYS[9] the guest link's token, KEYS[10]
# line (see line_key: a join at the end of the line appends its size); with a joined text, KEYS[11..15]
# as RECORD_OUTBOUND_LUA's
# ARGV[1] the join as JSON: id, phone, now, actor, status ('waiting' | 'pending'), pending_until (when a
# pending join expires), remote ('1' | ''), remote_max_active, almost_ready_position, token_ttl,
# text_position (the place the joined text's body names) and party (the new party's fields, all
# strings, party_size and tags among them); with a joined text, ARGV[2] as RECORD_OUTBOUND_LUA's ARGV[1]
# -> {'ok', position (0 while pending), text recorded 0|1, opted out 0|1, first contact 0|1}
#    | {'already_waiting', existing id} | {'id_taken'} | {'remote_full'}
JOIN_LUA = _XADD + _RECORD_TEXT + _LINE_TTL + """
local join = cjson.decode(ARGV[1])
local id, party = join.id, join.party
local existing = redis.call('HGET', KEYS[3], join.phone)
if existing then return {'already_waiting', existing} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'id_taken'} end
if join.remote == '1' and redis.call('SCARD', KEYS[7]) >= join.remote_max_active then return {'remote_full'} end
party.status = join.status
local position = 0
if join.status == 'pending' then
  redis.call('ZADD', KEYS[6], join.pending_until, id)
else
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[5]), id)
  position = redis.call('ZRANK', KEYS[2], id) + 1
  if position <= join.almost_ready_position then party.almost_sent = '1' end
  local line = redis.call('GET', KEYS[10])
  if line and position == redis.call('ZCARD', KEYS[2]) then
    local bar = string.find(line, '|', 1, true)
    local waiting = bar > 1 and string.sub(line, 1, bar - 1) .. ' ' .. party.party_size or party.party_size
    redis.call('SET', KEYS[10], waiting .. string.sub(line, bar), 'EX', LINE_TTL)
  elseif line then
    redis.call('DEL', KEYS[10])
  end
end
redis.call('HSET', KEYS[1], unpack(field_pairs(party)))
redis.call('HSET', KEYS[3], join.phone, id)
redis.call('HSET', KEYS[8], id, party.party_size)
redis.call('SET', KEYS[9], id, 'EX', join.token_ttl)
if join.remote == '1' then redis.call('SADD', KEYS[7], id) end
add_event(KEYS[4], 'type', 'status', 'party', id, 'from', '', 'to', join.status, 'at', join.now,
  'actor', join.actor, 'size', party.party_size, 'remote', join.remote, 'tags', party.tags or '')
if KEYS[11] and join.text_position == position then
  local opted, first = record_text(KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15], cjson.decode(ARGV[2]))
  return {'ok', tostring(position), 1, opted, first}
end
return {'ok', tostring(position), 0, 0, 0}
"""

# KEYS[1] party hash, KEYS[2] waiting zset, KEYS[3] notified zset, KEYS[4] phones hash,
# KEYS[5] finished zset, KEYS[6] events stream, KEYS[7] party key prefix, KEYS[8] recent seatings,
# KEYS[9] recent turns, KEYS[10] recent drop-outs, KEYS[11] pending zset, KEYS[12] remote set, KEYS[13] seq,
# KEYS[14] hour-of-week history (see _HISTORY), KEYS[15] sizes hash, KEYS[16] line (dropped: see line_key)
# ARGV[1] party id, ARGV[2] target status, ARGV[3] now, ARGV[4] actor, ARGV[5] almost_ready_position,
# ARGV[6] TTL of a finished party, ARGV[7] allowed source statuses "a,b", ARGV[8] hold_until (notify),
# ARGV[9] required hold_version ('' = any), ARGV[10] finished-set cutoff, ARGV[11] recent list length
# -> {'ok', from status, promoted ids...} | {'not_found'} | {'invalid', status} | {'stale', status}
TRANSITION_LUA = _XADD + _HISTORY + """
local pid, target, now = ARGV[1], ARGV[2], ARGV[3]
local party = KEYS[1]
local status = redis.call('HGET', party, 'status')
if not status then return {'not_found'} end
if not string.find(',' .. ARGV[7] .. ',', ',' .. status .. ',', 1, true) then
  return {'invalid', status}
end
if ARGV[9] ~= '' and redis.call('HGET', party, 'hold_version') ~= ARGV[9] then
  return {'stale', status}
end
local waiting, prefix, k = KEYS[2], KEYS[7], tonumber(ARGV[5])
local size = redis.call('HGET', party, 'party_size')
local keep = tonumber(ARGV[11])
redis.call('HSET', party, 'status', target)
redis.call('DEL', KEYS[16])
if status == 'pending' then redis.call('ZREM', KEYS[11], pid) end
if target == 'waiting' then
  redis.call('ZADD', waiting, redis.call('INCR', KEYS[13]), pid)
  redis.call('HSET', party, 'confirmed_at', now)
  if redis.call('ZRANK', waiting, pid) < k then redis.call('HSET', party, 'almost_sent', '1') end
elseif target == 'notified' then
  redis.call('ZREM', waiting, pid)
  if status ~= 'notified' then
    redis.call('ZADD', KEYS[3], now, pid)
    redis.call('HSET', party, 'notified_at', now)
  end
  redis.call('HSET', party, 'last_notified_at', now, 'hold_until', ARGV[8])
  redis.call('HINCRBY', party, 'notify_count', 1)
  redis.call('HINCRBY', party, 'hold_version', 1)
elseif target == 'completed' then
  redis.call('HSET', party, 'completed_at', now)
  local seated = redis.call('HGET', party, 'seated_at') or now
  redis.call('LPUSH', KEYS[9], seated .. ':' .. now .. ':' .. size)
  redis.call('LTRIM', KEYS[9], 0, keep - 1)
  bump_history(KEYS[14], seated, function(v)
    local b = size_bucket(size)
    v[b], v[b + 1] = v[b] + 1, v[b + 1] + minutes_between(seated, now)
  end)
else
  local score = redis.call('ZSCORE', waiting, pid)
  redis.call('HSET', party, 'prev_status', status, 'prev_score', score or '')
  redis.call('ZREM', waiting, pid)
  redis.call('ZREM', KEYS[3], pid)
  redis.call('SREM', KEYS[12], pid)
  redis.call('HDEL', KEYS[15], pid)
  local phone = redis.call('HGET', party, 'phone')
  if phone and redis.call('HGET', KEYS[4], phone) == pid then redis.call('HDEL', KEYS[4], phone) end
  redis.call('HSET', party, 'finished_at', now)
  redis.call('ZADD', KEYS[5], now, pid)
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[10])
  local joined = redis.call('HGET', party, 'joined_at') or now
  if target == 'seated' then
    redis.call('HSET', party, 'seated_at', now)
    redis.call('LPUSH', KEYS[8], now .. ':' .. size .. ':' .. joined)
    redis.call('LTRIM', KEYS[8], 0, keep - 1)
    bump_history(KEYS[14], now, function(v) v[9], v[11] = v[9] + 1, v[11] + minutes_between(joined, now) end)
  elseif status ~= 'pending' then
    redis.call('LPUSH', KEYS[10], now .. ':' .. size .. ':' .. joined .. ':' .. status .. ':' .. target)
    redis.call('LTRIM', KEYS[10], 0, keep - 1)
    bump_history(KEYS[14], now, function(v) v[10], v[11] = v[10] + 1, v[11] + minutes_between(joined, now) end)
  end
end
if target ~= 'notified' and target ~= 'waiting' then
  redis.call('EXPIRE', party, tonumber(ARGV[6]))
end
local info = redis.call('HMGET', party, 'joined_at', 'quote_minutes', 'notified_at', 'remote', 'tags')
add_event(KEYS[6], 'type', 'status', 'party', pid, 'from', status, 'to', target, 'at', now,
  'actor', ARGV[4], 'size', size, 'joined', info[1] or '', 'quote', info[2] or '', 'notified', info[3] or '',
  'remote', info[4] or '', 'tags', info[5] or '')
""" + _PROMOTE_ALMOST_READY + """
local result = {'ok', status}
if status == 'waiting' and target ~= 'waiting' then
  for _, p in ipairs(promoted) do table.insert(result, p) end
end
return result
"""

# KEYS[1] waiting zset, KEYS[2] party key prefix, KEYS[3] events stream, KEYS[4] line (dropped: see line_key)
# ARGV[1] party id, ARGV[2] wanted position (1-based, clamped), ARGV[3] now, ARGV[4] actor,
# ARGV[5] almost_ready_position
# -> {'ok', old position, new position, promoted ids...} | {'not_found'} | {'invalid', status}
MOVE_LUA = _XADD + """
local waiting, prefix, k = KEYS[1], KEYS[2], tonumber(ARGV[5])
local ids = redis.call('ZRANGE', waiting, 0, -1)
local from = nil
for i, v in ipairs(ids) do if v == ARGV[1] then from = i end end
if not from then
  local status = redis.call('HGET', prefix .. ARGV[1], 'status')
  if not status then return {'not_found'} end
  return {'invalid', status}
end
local to = math.max(1, math.min(tonumber(ARGV[2]), #ids))
table.remove(ids, from)
table.insert(ids, to, ARGV[1])
local args = {}
for i, v in ipairs(ids) do
  args[#args + 1] = i
  args[#args + 1] = v
end
redis.call('ZADD', waiting, unpack(args))
redis.call('DEL', KEYS[4])
add_event(KEYS[3], 'type', 'move', 'party', ARGV[1], 'from', tostring(from), 'to', tostring(to),
  'at', ARGV[3], 'actor', ARGV[4])
""" + _PROMOTE_ALMOST_READY + """
local result = {'ok', tostring(from), tostring(to)}
for _, p in ipairs(promoted) do table.insert(result, p) end
return result
"""

# KEYS[1] party hash, KEYS[2] events stream, KEYS[3] sizes hash (a party on the list keeps its size there),
# KEYS[4] line (dropped when a size changes: see line_key)
# ARGV[1] party id, ARGV[2] now, ARGV[3] actor, ARGV[4] allowed statuses "a,b" ('' = any),
# ARGV[5] event type, ARGV[6..] field/value pairs to set ('' value deletes the field)
# -> {'ok', status} | {'not_found'} | {'invalid', status}
UPDATE_LUA = _XADD + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found'} end
if ARGV[4] ~= '' and not string.find(',' .. ARGV[4] .. ',', ',' .. status .. ',', 1, true) then
  return {'invalid', status}
end
local changed = {}
for i = 6, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    if ARGV[i] == 'party_size' and redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
      redis.call('HSET', KEYS[3], ARGV[1], ARGV[i + 1])
      redis.call('DEL', KEYS[4])
    end
  end
  table.insert(changed, ARGV[i])
end
add_event(KEYS[2], 'type', ARGV[5], 'party', ARGV[1], 'fields', table.concat(changed, ','),
  'at', ARGV[2], 'actor', ARGV[3])
return {'ok', status}
"""

# KEYS[1] party hash, KEYS[2] events stream
# ARGV[1] extension seconds, ARGV[2] now, ARGV[3] actor, ARGV[4] most total extension in seconds
# -> {'ok', status, new hold_until or '', hold_version or ''} | {'not_found'} | {'invalid', status}
EXTEND_HOLD_LUA = _XADD + """
local m = redis.call('HMGET', KEYS[1], 'status', 'hold_until', 'late_seconds')
local status = m[1]
if not status then return {'not_found'} end
if status ~= 'waiting' and status ~= 'notified' then return {'invalid', status} end
local now = tonumber(ARGV[2])
local used = tonumber(m[3] or '0')
local extra = math.max(0, math.min(tonumber(ARGV[1]), tonumber(ARGV[4]) - used))
redis.call('HSET', KEYS[1], 'f:running_late', '1', 'late_seconds', tostring(used + extra))
local hold, version = '', ''
if status == 'notified' then
  local base = math.max(tonumber(m[2] or ARGV[2]), now)
  hold = tostring(base + extra)
  redis.call('HSET', KEYS[1], 'hold_until', hold)
  version = tostring(redis.call('HINCRBY', KEYS[1], 'hold_version', 1))
end
add_event(KEYS[2], 'type', 'late', 'party', redis.call('HGET', KEYS[1], 'id') or '', 'seconds', tostring(extra),
  'at', ARGV[2], 'actor', ARGV[3])
return {'ok', status, hold, version}
"""

# KEYS[1] party hash, KEYS[2] waiting zset, KEYS[3] notified zset, KEYS[4] phones hash,
# KEYS[5] finished zset, KEYS[6] events stream, KEYS[7] sizes hash, KEYS[8] line (dropped: see line_key)
# ARGV[1] party id, ARGV[2] now, ARGV[3] undo window in seconds, ARGV[4] actor
# -> {'ok', restored status} | {'not_found'} | {'invalid', status} | {'too_late', status}
#    | {'phone_taken', status}
UNDO_LUA = _XADD + """
local m = redis.call('HMGET', KEYS[1], 'status', 'finished_at', 'prev_status', 'prev_score', 'phone',
  'notified_at')
local status = m[1]
if not status then return {'not_found'} end
if (status ~= 'seated' and status ~= 'cancelled' and status ~= 'no_show') or not m[3] or m[3] == 'pending' then
  return {'invalid', status}
end
if tonumber(ARGV[2]) - tonumber(m[2] or '0') > tonumber(ARGV[3]) then return {'too_late', status} end
local holder = redis.call('HGET', KEYS[4], m[5])
if holder and holder ~= ARGV[1] then return {'phone_taken', status} end
redis.call('HSET', KEYS[1], 'status', m[3])
redis.call('HDEL', KEYS[1], 'seated_at', 'finished_at', 'prev_status', 'prev_score')
redis.call('PERSIST', KEYS[1])
redis.call('ZREM', KEYS[5], ARGV[1])
if m[3] == 'waiting' then
  redis.call('ZADD', KEYS[2], tonumber(m[4] ~= '' and m[4] or ARGV[2]), ARGV[1])
else
  redis.call('ZADD', KEYS[3], tonumber(m[6] or ARGV[2]), ARGV[1])
end
redis.call('HSET', KEYS[4], m[5], ARGV[1])
redis.call('HSET', KEYS[7], ARGV[1], redis.call('HGET', KEYS[1], 'party_size'))
redis.call('DEL', KEYS[8])
add_event(KEYS[6], 'type', 'status', 'party', ARGV[1], 'from', status, 'to', m[3], 'at', ARGV[2],
  'actor', ARGV[4], 'undo', '1')
return {'ok', m[3]}
"""

# The list scripts answer with one JSON text (cjson), not a nested array: a list of 100 parties is
# about 3,000 strings, which redis-py's reply parser builds one by one (220 us of a 1.8 ms list request)
# and orjson decodes in a third of that. An entry: [id, position (0 = not waiting), {field: value}].
_LIST_ENTRIES = """
local out = {}
local function emit(prefix, ids, waiting)
  for i, pid in ipairs(ids) do
    local flat = redis.call('HGETALL', prefix .. pid)
    if #flat > 0 then
      local fields = {}
      for j = 1, #flat, 2 do fields[flat[j]] = flat[j + 1] end
      out[#out + 1] = {pid, waiting and i or 0, fields}
    end
  end
end
local function encoded()
  if #out == 0 then return '[]' end
  return cjson.encode(out)
end
"""

# KEYS[1] waiting zset, KEYS[2] notified zset, KEYS[3] party key prefix, KEYS[4] pending zset
# -> JSON: the active parties' entries (see _LIST_ENTRIES), waiting in queue order, then notified, pending
LIST_ACTIVE_LUA = _LIST_ENTRIES + """
emit(KEYS[3], redis.call('ZRANGE', KEYS[1], 0, -1), true)
emit(KEYS[3], redis.call('ZRANGE', KEYS[2], 0, -1), false)
emit(KEYS[3], redis.call('ZRANGE', KEYS[4], 0, -1), false)
return encoded()
"""

# KEYS[1] finished zset, KEYS[2] party key prefix; ARGV[1] since (epoch seconds)
# -> JSON: the entries (see _LIST_ENTRIES) of parties finished since then, oldest first
LIST_FINISHED_LUA = _LIST_ENTRIES + """
emit(KEYS[2], redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf'), false)
return encoded()
"""

# Shared snippet: what the estimator reads (waitlist.estimate.estimator.Snapshot). KEYS[first..first+8]: waiting
# zset, party key prefix, recent seatings, recent turns, recent drop-outs, notified zset, hour-of-week
# history (see _HISTORY), sizes hash, line -> {waiting sizes (queue order, one string: "2 4 2"), seatings,
# turns, drops, notified sizes (one string), history flat}. The transition script keeps the history.
# The sizes in line order come from the line key when it is there: one string, where working them out
# converts every id of the line and every entry of the sizes hash into Lua strings (two thirds of the
# script's time with 40 parties waiting). Otherwise they are worked out from the sizes hash (see
# size_table; a party with no entry, from before that hash, falls back to its own) and the line key is
# written for the next read. Every script that changes the line or a size keeps or drops the key.
_READ_SNAPSHOT = _LINE_TTL + """
-- id -> size from one HGETALL. Not HMGET: a hash under 128 fields is a listpack, which HMGET scans
-- once per id asked (88 us of Redis for 100 ids, against a few for HGETALL).
local function size_table(sizes)
  local flat, known = redis.call('HGETALL', sizes), {}
  for i = 1, #flat, 2 do known[flat[i]] = flat[i + 1] end
  return known
end
-- One space-separated string rather than an array: one reply element to parse instead of one per party.
local function sizes_of(ids, known, prefix)
  local out = {}
  for _, id in ipairs(ids) do
    local v = known[id] or redis.call('HGET', prefix .. id, 'party_size')
    if v then out[#out + 1] = v end
  end
  return table.concat(out, ' ')
end
local function line_sizes(first)
  local line = redis.call('GET', KEYS[first + 8])
  if line then
    local bar = string.find(line, '|', 1, true)
    return string.sub(line, 1, bar - 1), string.sub(line, bar + 1)
  end
  local prefix, known = KEYS[first + 1], size_table(KEYS[first + 7])
  local waiting = sizes_of(redis.call('ZRANGE', KEYS[first], 0, -1), known, prefix)
  local notified = sizes_of(redis.call('ZRANGE', KEYS[first + 5], 0, -1), known, prefix)
  redis.call('SET', KEYS[first + 8], waiting .. '|' .. notified, 'EX', LINE_TTL)
  return waiting, notified
end
local function read_snapshot(first)
  local waiting, notified = line_sizes(first)
  return {waiting, redis.call('LRANGE', KEYS[first + 2], 0, -1), redis.call('LRANGE', KEYS[first + 3], 0, -1),
          redis.call('LRANGE', KEYS[first + 4], 0, -1), notified, redis.call('HGETALL', KEYS[first + 6])}
end
"""

# KEYS as _READ_SNAPSHOT's from 1 -> _READ_SNAPSHOT's reply
SNAPSHOT_LUA = _READ_SNAPSHOT + """
return read_snapshot(1)
"""

# KEYS[1] restaurant hash, KEYS[2..10] as _READ_SNAPSHOT's; ARGV[1] hash of the API key offered
# -> {restaurant fields flat, snapshot (_READ_SNAPSHOT's reply) or {} when the key is not the restaurant's}
# A host's add needs both, and round trips are most of its cost; only a valid key reads the snapshot.
RESTAURANT_AND_SNAPSHOT_LUA = _READ_SNAPSHOT + """
local fields, key_hash = redis.call('HGETALL', KEYS[1]), nil
for i = 1, #fields, 2 do
  if fields[i] == 'api_key_hash' then key_hash = fields[i + 1] end
end
if ARGV[1] == '' or key_hash ~= ARGV[1] then return {fields, {}} end
return {fields, read_snapshot(2)}
"""


# --- Decoding ---------------------------------------------------------------------------------------


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def _int(value: str | None) -> int | None:
    return int(float(value)) if value not in (None, "") else None


def party_from_hash(slug: str, party_id: str, data: dict[str, str], position: int | None) -> Party:
    return Party(
        id=party_id,
        restaurant=slug,
        name=data.get("name", ""),
        phone=data.get("phone", ""),
        party_size=int(data.get("party_size", "0")),
        status=Status(data.get("status", "waiting")),
        notes=data.get("notes", ""),
        seating=data.get("seating", "any"),
        language=data.get("language") or None,
        token=data.get("token", ""),
        quote_minutes=_int(data.get("quote_minutes")),
        quote_low=_int(data.get("quote_low")),
        quote_high=_int(data.get("quote_high")),
        joined_at=float(data.get("joined_at", "0")),
        notified_at=_float(data.get("notified_at")),
        seated_at=_float(data.get("seated_at")),
        completed_at=_float(data.get("completed_at")),
        finished_at=_float(data.get("finished_at")),
        hold_until=_float(data.get("hold_until")),
        notify_count=int(data.get("notify_count", "0")),
        hold_version=int(data.get("hold_version", "0")),
        flags={name[2:] for name, value in data.items() if name.startswith("f:") and value},
        position=position or None,
        remote=bool(data.get("remote")),
        tags=[t for t in data.get("tags", "").split(",") if t],
    )


def _parse_entries(slug: str, reply: str) -> list[Party]:
    """Parties from a list script's JSON entries (see _LIST_ENTRIES)."""
    return [party_from_hash(slug, pid, fields, position) for pid, position, fields in orjson.loads(reply)]


@dataclass(frozen=True)
class TransitionResult:
    previous: Status
    promoted: list[str]


@dataclass(frozen=True)
class OutboundText:
    """An outbound text to record: its fields, and what decides its fate in the store (see
    MessageStore.record_outbound)."""

    message: dict[str, str]
    recipient_digest: str
    first_contact_body: str | None = None
    latch_ttl: int = 0
    relayed: bool = False
    """Put in the restaurant's outbox for a worker's relay to queue (the RQ dispatcher), rather than
    handed over by the caller after recording."""


@dataclass(frozen=True)
class RecordedText:
    opted_out: bool
    first_contact: bool


@dataclass(frozen=True)
class Joined:
    position: int
    text: RecordedText | None
    """How the joined text was recorded with the join; None when it was not (see Store.join)."""


@lru_cache(maxsize=1024)
def settings_from_json(raw: str) -> Settings:
    """Settings as stored. Every staff request reads them and they rarely change, so each distinct
    JSON text is parsed once per process (Settings are frozen, so sharing one copy is safe)."""
    return Settings.from_dict(json.loads(raw))


def _restaurant_from_hash(slug: str, data: dict[str, str]) -> tuple[Restaurant, str] | None:
    """The restaurant and its API key hash, or None when there is no such restaurant."""
    if not data.get("name"):
        return None
    restaurant = Restaurant(
        slug=slug,
        name=data["name"],
        sms_from=data.get("sms_from", ""),
        timezone=data.get("timezone", "UTC"),
        language=data.get("language", "en"),
        created_at=float(data.get("created_at", "0")),
        settings=settings_from_json(data.get("settings") or "{}"),
        code=data.get("code", ""),
    )
    return restaurant, data.get("api_key_hash", "")


def _snapshot_keys(slug: str) -> list[str]:
    return [waiting_key(slug), party_prefix(slug), recent_key(slug, "seatings"), recent_key(slug, "turns"),
            recent_key(slug, "drops"), notified_key(slug), history_key(slug), sizes_key(slug), line_key(slug)]


def _snapshot_from_reply(reply: Sequence[Any]) -> Snapshot:
    sizes, seatings, turns, drops, notified, history = reply
    return Snapshot(
        waiting_sizes=[int(s) for s in sizes.split()],
        notified_sizes=[int(s) for s in notified.split()],
        seatings=[(float(a), int(b), float(c)) for a, b, c in (s.split(":")[:3] for s in seatings)],
        turns=[(float(a), float(b), int(c)) for a, b, c in (t.split(":")[:3] for t in turns)],
        drops=[(float(a), int(b), float(c), d, e)
               for a, b, c, d, e in ((x.split(":") + [""])[:5] for x in drops)],
        history=dict(zip(history[0::2], history[1::2])),
    )


def _record_text_params(slug: str, text: OutboundText) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of RECORD_OUTBOUND_LUA; JOIN_LUA takes the same after its own."""
    message = text.message
    conv = conversation_key(slug, message["party"]) if message.get("party") else message_key(slug, message["id"])
    keys = [message_key(slug, message["id"]), conv, optout_key(slug), outbox_key(slug)]
    if text.first_contact_body is not None:
        keys.append(f"{tag(slug)}:once:contacted:{text.recipient_digest}")
    return keys, [orjson.dumps({
        "message": message, "digest": text.recipient_digest, "ttl": MESSAGE_TTL_SECONDS,
        "latch_ttl": text.latch_ttl, "first_body": text.first_contact_body or "",
        "in_conv": bool(message.get("party")), "relay_slug": slug if text.relayed else "",
    })]


class Store:
    """Reads and atomic writes of waitlist state. Raises nothing Redis-specific for domain outcomes:
    it returns sentinels the service layer turns into ``WaitlistError``s."""

    def __init__(self, redis: Redis):
        self.redis: Any = redis  # decoded replies (str), which redis-py's stubs cannot express
        self._slugs_by_code: dict[str, str] = {}
        self._join = redis.register_script(JOIN_LUA)
        self._transition = redis.register_script(TRANSITION_LUA)
        self._move = redis.register_script(MOVE_LUA)
        self._update = redis.register_script(UPDATE_LUA)
        self._list_active = redis.register_script(LIST_ACTIVE_LUA)
        self._list_finished = redis.register_script(LIST_FINISHED_LUA)
        self._snapshot = redis.register_script(SNAPSHOT_LUA)
        self._restaurant_and_snapshot = redis.register_script(RESTAURANT_AND_SNAPSHOT_LUA)
        self._extend_hold = redis.register_script(EXTEND_HOLD_LUA)
        self._undo = redis.register_script(UNDO_LUA)

    # --- restaurants ---

    def claim_sms_from(self, e164: str, slug: str) -> str | None:
        """Reserve a sending number for a restaurant; returns the current owner if taken by another."""
        if self.redis.set(sms_from_key(e164), slug, nx=True):
            return None
        owner = self.redis.get(sms_from_key(e164))
        return None if owner == slug else owner

    def release_sms_from(self, e164: str, slug: str) -> None:
        self._release(sms_from_key(e164), slug)

    def release_code(self, code: str, slug: str) -> None:
        self._release(code_key(code), slug)

    def _release(self, key: str, slug: str) -> None:
        """Drop a global claim (a sending number, a link code) if this restaurant still holds it."""
        if self.redis.get(key) == slug:
            self.redis.delete(key)

    def create_restaurant(self, restaurant: Restaurant, api_key_hash: str) -> bool:
        """False when the slug is taken. The restaurant hash is written first and alone decides."""
        key = restaurant_key(restaurant.slug)
        if not self.redis.hsetnx(key, "slug", restaurant.slug):
            return False
        self.redis.hset(key, mapping=self._restaurant_fields(restaurant, api_key_hash))
        self.redis.set(apikey_key(api_key_hash), restaurant.slug)
        self.redis.sadd(restaurants_key(), restaurant.slug)
        return True

    @staticmethod
    def _restaurant_fields(restaurant: Restaurant, api_key_hash: str) -> dict[str, str]:
        return {
            "slug": restaurant.slug,
            "name": restaurant.name,
            "sms_from": restaurant.sms_from,
            "timezone": restaurant.timezone,
            "language": restaurant.language,
            "created_at": repr(restaurant.created_at),
            "settings": json.dumps(restaurant.settings.to_dict()),
            "api_key_hash": api_key_hash,
            "code": restaurant.code,
        }

    def load_restaurant(self, slug: str) -> tuple[Restaurant, str] | None:
        """The restaurant and its API key hash, or None."""
        return _restaurant_from_hash(slug, self.redis.hgetall(restaurant_key(slug)))

    def save_settings(self, slug: str, settings: Settings) -> None:
        self.redis.hset(restaurant_key(slug), mapping={
            "settings": json.dumps(settings.to_dict()),
            "language": settings.language,
        })

    def replace_api_key(self, slug: str, old_hash: str, new_hash: str) -> None:
        self.redis.hset(restaurant_key(slug), "api_key_hash", new_hash)
        self.redis.set(apikey_key(new_hash), slug)
        if old_hash:
            self.redis.delete(apikey_key(old_hash))

    def slug_for_api_key(self, key_hash: str) -> str | None:
        return self.redis.get(apikey_key(key_hash))

    def slug_for_sms_from(self, e164: str) -> str | None:
        return self.redis.get(sms_from_key(e164))

    def all_slugs(self) -> list[str]:
        return sorted(self.redis.smembers(restaurants_key()))

    def line_counts(self, slugs: list[str]) -> dict[str, int]:
        """Parties waiting, notified and pending across restaurants (one pipelined round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        for slug in slugs:
            pipe.zcard(waiting_key(slug))
            pipe.zcard(notified_key(slug))
            pipe.zcard(pending_key(slug))
        values = pipe.execute() if slugs else []
        return {status: sum(values[i::3]) for i, status in enumerate(("waiting", "notified", "pending"))}

    # --- parties ---

    def join(self, slug: str, party: Party, *, now: float, actor: str, almost_ready_position: int,
             pending_until: float | None = None, remote_max_active: int = 0,
             text: OutboundText | None = None, text_position: int = 0) -> tuple[str, Any]:
        """Put a party on the list; ``("ok", Joined)`` or an outcome name with its detail.

        ``text`` (the joined text, whose body names the place in line) is recorded by the same script
        when the party lands at ``text_position``, which is nearly always: the caller reads the
        snapshot just before. Otherwise it is not recorded and the caller renders it again for the real place.
        """
        fields: dict[str, str] = {
            "id": party.id,
            "name": party.name,
            "phone": party.phone,
            "party_size": str(party.party_size),
            "notes": party.notes,
            "seating": party.seating,
            "language": party.language or "",
            "token": party.token,
            "quote_minutes": str(party.quote_minutes if party.quote_minutes is not None else ""),
            "quote_low": str(party.quote_low if party.quote_low is not None else ""),
            "quote_high": str(party.quote_high if party.quote_high is not None else ""),
            "joined_at": repr(party.joined_at),
            "remote": "1" if party.remote else "",
            "tags": ",".join(party.tags),
        }
        keys = [party_key(slug, party.id), waiting_key(slug), phones_key(slug), events_key(slug), seq_key(slug),
                pending_key(slug), remote_key(slug), sizes_key(slug), token_key(slug, party.token), line_key(slug)]
        args = [orjson.dumps({
            "id": party.id, "phone": party.phone, "now": repr(now), "actor": actor,
            "status": "pending" if pending_until is not None else "waiting", "pending_until": repr(pending_until or 0),
            "remote": "1" if party.remote else "", "remote_max_active": remote_max_active,
            "almost_ready_position": almost_ready_position, "token_ttl": TOKEN_TTL_SECONDS,
            "text_position": text_position, "party": fields,
        })]
        if text is not None:
            text_keys, text_args = _record_text_params(slug, text)
            keys += text_keys
            args += text_args
        result = self._join(keys=keys, args=args)
        if result[0] != "ok":
            return result[0], result[1] if len(result) > 1 else None
        recorded = RecordedText(opted_out=bool(result[3]), first_contact=bool(result[4])) if result[2] else None
        return "ok", Joined(position=int(result[1]), text=recorded)

    def transition(
        self,
        slug: str,
        party_id: str,
        target: Status,
        *,
        allowed: Iterable[Status],
        now: float,
        actor: str,
        almost_ready_position: int,
        hold_until: float | None = None,
        hold_version: str | None = None,
    ) -> tuple[str, TransitionResult | str | None]:
        result = self._transition(
            keys=[
                party_key(slug, party_id), waiting_key(slug), notified_key(slug), phones_key(slug),
                finished_key(slug), events_key(slug), party_prefix(slug), recent_key(slug, "seatings"),
                recent_key(slug, "turns"), recent_key(slug, "drops"), pending_key(slug), remote_key(slug),
                seq_key(slug), history_key(slug), sizes_key(slug), line_key(slug),
            ],
            args=[
                party_id, target.value, repr(now), actor, almost_ready_position, FINISHED_PARTY_TTL_SECONDS,
                ",".join(s.value for s in allowed), repr(hold_until) if hold_until is not None else "",
                hold_version or "", repr(now - FINISHED_KEEP_SECONDS), RECENT_MAXLEN,
            ],
        )
        if result[0] != "ok":
            return result[0], result[1] if len(result) > 1 else None
        return "ok", TransitionResult(previous=Status(result[1]), promoted=list(result[2:]))

    def move(self, slug: str, party_id: str, position: int, *, now: float, actor: str,
             almost_ready_position: int) -> tuple[str, Any]:
        result = self._move(
            keys=[waiting_key(slug), party_prefix(slug), events_key(slug), line_key(slug)],
            args=[party_id, position, repr(now), actor, almost_ready_position],
        )
        if result[0] != "ok":
            return result[0], result[1] if len(result) > 1 else None
        return "ok", (int(result[1]), int(result[2]), list(result[3:]))

    def update_party(self, slug: str, party_id: str, fields: dict[str, str], *, now: float, actor: str,
                     allowed: Iterable[Status] = (), event: str = "update") -> tuple[str, str | None]:
        pairs = [item for kv in fields.items() for item in kv]
        result = self._update(
            keys=[party_key(slug, party_id), events_key(slug), sizes_key(slug), line_key(slug)],
            args=[party_id, repr(now), actor, ",".join(s.value for s in allowed), event, *pairs],
        )
        return result[0], result[1] if len(result) > 1 else None

    def extend_hold(self, slug: str, party_id: str, seconds: float, *, now: float, actor: str,
                    most_seconds: float) -> tuple[str, Any]:
        result = self._extend_hold(keys=[party_key(slug, party_id), events_key(slug)],
                                   args=[repr(seconds), repr(now), actor, repr(most_seconds)])
        if result[0] != "ok":
            return result[0], result[1] if len(result) > 1 else None
        hold = float(result[2]) if result[2] else None
        return "ok", (Status(result[1]), hold, result[3] or None)

    def undo_finish(self, slug: str, party_id: str, *, now: float, window_seconds: float,
                    actor: str) -> tuple[str, Any]:
        result = self._undo(
            keys=[party_key(slug, party_id), waiting_key(slug), notified_key(slug), phones_key(slug),
                  finished_key(slug), events_key(slug), sizes_key(slug), line_key(slug)],
            args=[party_id, repr(now), repr(window_seconds), actor])
        return result[0], result[1] if len(result) > 1 else None

    def load_party(self, slug: str, party_id: str) -> Party | None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(party_key(slug, party_id))
        pipe.zrank(waiting_key(slug), party_id)
        data, rank = pipe.execute()
        if not data or "status" not in data:
            return None
        return party_from_hash(slug, party_id, data, rank + 1 if rank is not None else None)

    def party_field(self, slug: str, party_id: str, field: str) -> str | None:
        return self.redis.hget(party_key(slug, party_id), field)

    def active_parties(self, slug: str) -> list[Party]:
        reply = self._list_active(keys=[waiting_key(slug), notified_key(slug), party_prefix(slug), pending_key(slug)])
        return _parse_entries(slug, reply)

    def finished_parties(self, slug: str, since: float) -> list[Party]:
        reply = self._list_finished(keys=[finished_key(slug), party_prefix(slug)], args=[repr(since)])
        return _parse_entries(slug, reply)

    def active_party_for_phone(self, slug: str, phone: str) -> str | None:
        return self.redis.hget(phones_key(slug), phone)

    def snapshot(self, slug: str) -> Snapshot:
        return _snapshot_from_reply(self._snapshot(keys=_snapshot_keys(slug)))

    def restaurant_and_snapshot(self, slug: str, api_key_hash: str) -> tuple[tuple[Restaurant, str] | None,
                                                                          Snapshot | None]:
        """``load_restaurant`` and, when ``api_key_hash`` is the restaurant's, ``snapshot``, in one round
        trip (a host adding a party needs both)."""
        fields, snapshot = self._restaurant_and_snapshot(keys=[restaurant_key(slug), *_snapshot_keys(slug)],
                                                         args=[api_key_hash])
        found = _restaurant_from_hash(slug, dict(zip(fields[0::2], fields[1::2])))
        return found, _snapshot_from_reply(snapshot) if snapshot else None

    def await_feedback(self, slug: str, digest: str, party_id: str, ttl_seconds: int) -> None:
        """Remember, for a day, that this number's next digit answers a feedback request."""
        self.redis.set(f"{tag(slug)}:awaitfb:{digest}", party_id, ex=ttl_seconds)

    def feedback_party(self, slug: str, digest: str) -> str | None:
        return self.redis.get(f"{tag(slug)}:awaitfb:{digest}")

    def record_feedback(self, slug: str, party_id: str, *, now: float, rating: int | None = None,
                        comment: str | None = None) -> None:
        """Store a rating or a follow-up comment on the visit and append a feedback event."""
        fields = {"rated_at": repr(now), "rating": str(rating)} if rating is not None else {"comment": comment or ""}
        event = {"type": "feedback", "party": party_id, "at": repr(now)}
        event.update({"rating": str(rating)} if rating is not None else {"comment": (comment or "")[:500]})
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(party_key(slug, party_id), mapping=fields)
        pipe.xadd(events_key(slug), event, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.execute()

    def count_join(self, slug: str, digest: str, day: str) -> int:
        """Joins by one number on one day (the daily cap), counted atomically."""
        key = f"{tag(slug)}:joins:{digest}:{day}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 2 * 24 * 3600)
        count, _ = pipe.execute()
        return int(count)

    def resolve_token(self, token: str) -> tuple[str, str] | None:
        """The restaurant and party behind a guest link: its first characters name the restaurant.

        A code found with a link is cached for the process: that restaurant holds it for good. (A code
        merely claimed may still be released, by a create that lost its slug, and claimed again.)"""
        code = token[:CODE_LENGTH]
        slug = self._slugs_by_code.get(code) or self.redis.get(code_key(code))
        party_id = self.redis.get(token_key(slug, token)) if slug else None
        if slug and party_id:
            if len(self._slugs_by_code) < 100_000:
                self._slugs_by_code[code] = slug
            return slug, party_id
        value = self.redis.get(legacy_token_key(token))
        if not value or "/" not in value:
            return None
        legacy_slug, party_id = value.split("/", 1)
        return legacy_slug, party_id

    def claim_code(self, code: str, slug: str) -> bool:
        """Reserve a guest-link code for a restaurant; False when another restaurant has it."""
        return bool(self.redis.set(code_key(code), slug, nx=True))

    def set_code(self, slug: str, code: str) -> str:
        """Give a restaurant created before codes existed its (claimed) code, unless another process
        just gave it one; returns the code it has."""
        if self.redis.hsetnx(restaurant_key(slug), "code", code):
            return code
        self.release_code(code, slug)
        return str(self.redis.hget(restaurant_key(slug), "code"))

    def events(self, slug: str, after: str = "-", count: int = 100) -> list[tuple[str, dict[str, str]]]:
        start = "-" if after in ("-", "") else f"({after}"
        return [(eid, fields) for eid, fields in self.redis.xrange(events_key(slug), start, "+", count=count)]

    def ping(self) -> bool:
        return bool(self.redis.ping())


# --- Messages ---------------------------------------------------------------------------------------

MESSAGE_TTL_SECONDS = 35 * 24 * 3600
SID_TTL_SECONDS = 8 * 24 * 3600
STATUS_RANK = {
    "queued": 0, "accepted": 1, "scheduled": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "suppressed": 4, "read": 5, "received": 5,
}


def sid_key(sid: str) -> str:
    return f"wl:sid:{sid}"


# KEYS[1] message hash, KEYS[2] opt-out set
# ARGV[1] now, ARGV[2] keyed hash of the recipient
# -> 'claimed' (send it) | 'ambiguous' (an earlier attempt may have reached Twilio) | 'done' | 'opted_out'
#    | 'missing'
CLAIM_MESSAGE_LUA = """
local m = redis.call('HMGET', KEYS[1], 'status', 'sid', 'claimed_at')
if not m[1] then return 'missing' end
if m[2] and m[2] ~= '' then return 'done' end
if m[1] ~= 'queued' then return 'done' end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], 'status', 'suppressed', 'error_code', 'opted_out', 'updated_at', ARGV[1])
  return 'opted_out'
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if m[3] and m[3] ~= '' then return 'ambiguous' end
redis.call('HSET', KEYS[1], 'claimed_at', ARGV[1])
return 'claimed'
"""

# KEYS[1] message hash, KEYS[2] events stream
# ARGV[1] new status, ARGV[2] its rank, ARGV[3] now, ARGV[4] error code ('' = none), ARGV[5] sid ('' = keep;
# recorded whatever the status, so a send's SID is never lost to a callback that arrived first)
# ARGV[6..] rank of each known status as name/rank pairs
# -> {'updated', party id, kind} | {'ignored'} | {'missing'}
ADVANCE_STATUS_LUA = _XADD + """
local m = redis.call('HMGET', KEYS[1], 'status', 'party', 'kind', 'id')
if not m[1] then return {'missing'} end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'sid', ARGV[5], 'updated_at', ARGV[3]) end
local ranks = {}
for i = 6, #ARGV, 2 do ranks[ARGV[i]] = tonumber(ARGV[i + 1]) end
if (ranks[m[1]] or 0) >= tonumber(ARGV[2]) then return {'ignored'} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'error_code', ARGV[4]) end
add_event(KEYS[2], 'type', 'sms', 'message', m[4] or '', 'party', m[2] or '', 'kind', m[3] or '',
  'from', m[1], 'to', ARGV[1], 'at', ARGV[3])
return {'updated', m[2] or '', m[3] or ''}
"""


# KEYS[1] message hash, KEYS[2] conversation list, KEYS[3] opt-out set, KEYS[4] outbox zset, KEYS[5] the
# first-contact latch (optional); ARGV[1] the text as JSON (see _RECORD_TEXT): the message's fields
# (strings, id and created_at among them), the recipient's digest, the message's and the latch's TTLs,
# the first-contact body, whether it joins the party's conversation, the slug to relay it for ('' when
# the caller hands it over itself)
# -> {opted out 0|1, first contact 0|1}
RECORD_OUTBOUND_LUA = _RECORD_TEXT + """
return {record_text(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], cjson.decode(ARGV[1]))}
"""

# KEYS[1] outbox zset; ARGV[1] now, ARGV[2] lease seconds, ARGV[3] most ids
# -> ids of the texts due now, each now leased to the caller (its score moved to the lease's end)
CLAIM_OUTBOX_LUA = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local lease_end = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], lease_end, id) end
return ids
"""


class MessageStore:
    """Text messages in and out, and the per-restaurant opt-out list."""

    def __init__(self, redis: Redis):
        self.redis: Any = redis  # decoded replies (str), which redis-py's stubs cannot express
        self._claim = redis.register_script(CLAIM_MESSAGE_LUA)
        self._advance = redis.register_script(ADVANCE_STATUS_LUA)
        self._rank_args = [item for kv in STATUS_RANK.items() for item in (kv[0], str(kv[1]))]
        self._record_outbound = redis.register_script(RECORD_OUTBOUND_LUA)
        self._claim_outbox = redis.register_script(CLAIM_OUTBOX_LUA)

    def record_outbound(self, slug: str, text: OutboundText) -> RecordedText:
        """Store an outbound text in one round trip: checks the opt-out list (an opted-out number's text
        is kept as ``suppressed``) and, given a first-contact body, uses it when this is the
        restaurant's first text to the number."""
        keys, args = _record_text_params(slug, text)
        opted, first = self._record_outbound(keys=keys, args=args)
        return RecordedText(opted_out=bool(opted), first_contact=bool(first))

    def claim_outbox(self, slug: str, *, now: float, lease_seconds: float, limit: int) -> list[str]:
        """Up to ``limit`` ids of the restaurant's texts due for a relay, leased to the caller: no other
        relay takes them before ``now + lease_seconds``, unless they are still there then."""
        return list(self._claim_outbox(keys=[outbox_key(slug)], args=[repr(now), lease_seconds, limit]))

    def clear_outbox(self, slug: str, message_ids: Sequence[str]) -> None:
        """The relay has queued these texts' sends."""
        if message_ids:
            self.redis.zrem(outbox_key(slug), *message_ids)

    def outbox_sizes(self, slugs: Sequence[str], *, due_by: float | None = None) -> list[int]:
        """Texts in each restaurant's outbox (only those due by ``due_by``, not leased past it, when
        given), in one pipelined round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for slug in slugs:
            pipe.zcount(outbox_key(slug), "-inf", "+inf" if due_by is None else repr(due_by))
        return list(pipe.execute()) if slugs else []

    def subscribe_outbox(self) -> Any:
        """A pub/sub connection told the slug of every restaurant whose outbox gets a text."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(OUTBOX_CHANNEL)
        return pubsub

    def add(self, slug: str, message: dict[str, str]) -> None:
        """Store a message and append it to its party's conversation, atomically."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(message_key(slug, message["id"]), mapping=message)
        pipe.expire(message_key(slug, message["id"]), MESSAGE_TTL_SECONDS)
        if message.get("party"):
            conv = conversation_key(slug, message["party"])
            pipe.rpush(conv, message["id"])
            pipe.ltrim(conv, -500, -1)
            pipe.expire(conv, MESSAGE_TTL_SECONDS)
        if message.get("direction") == "in":
            pipe.xadd(events_key(slug), {"type": "sms_in", "message": message["id"], "party": message.get("party", ""),
                                         "at": message.get("created_at", "")}, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.execute()

    def get(self, slug: str, message_id: str) -> dict[str, str] | None:
        data = self.redis.hgetall(message_key(slug, message_id))
        return data or None

    def conversation(self, slug: str, party_id: str) -> list[dict[str, str]]:
        ids = self.redis.lrange(conversation_key(slug, party_id), 0, -1)
        pipe = self.redis.pipeline(transaction=False)
        for message_id in ids:
            pipe.hgetall(message_key(slug, message_id))
        return [m for m in pipe.execute() if m]

    def claim(self, slug: str, message_id: str, *, now: float, recipient_digest: str) -> str:
        return str(self._claim(keys=[message_key(slug, message_id), optout_key(slug)],
                               args=[repr(now), recipient_digest]))

    def record_sid(self, slug: str, message_id: str, sid: str, status: str, *, now: float) -> None:
        """Twilio accepted the message: remember its SID so no re-run ever sends it again. The global
        SID index is written first, so a status callback racing this finds the message."""
        self.redis.set(sid_key(sid), f"{slug}/{message_id}", ex=SID_TTL_SECONDS)
        self.advance(slug, message_id, status, now=now, sid=sid)

    def release_claim(self, slug: str, message_id: str, error: str, *, now: float) -> None:
        """Twilio answered with an error, so it did not take the message: a retry may send it."""
        self.redis.hset(message_key(slug, message_id), mapping={
            "claimed_at": "", "last_error": error[:200], "updated_at": repr(now)})

    def note_error(self, slug: str, message_id: str, error: str, *, now: float) -> None:
        self.redis.hset(message_key(slug, message_id), mapping={"last_error": error[:200], "updated_at": repr(now)})

    def advance(self, slug: str, message_id: str, status: str, *, now: float, error_code: str = "",
                sid: str = "") -> tuple[str, str, str]:
        """Move a message's status forward only; duplicates and late callbacks are ignored."""
        rank = STATUS_RANK.get(status, -1)  # an unknown status moves nothing (but a SID is still kept)
        result = self._advance(keys=[message_key(slug, message_id), events_key(slug)],
                               args=[status, rank, repr(now), error_code, sid, *self._rank_args])
        if result[0] != "updated":
            return result[0], "", ""
        return "updated", result[1], result[2]

    def locate_sid(self, sid: str) -> tuple[str, str] | None:
        value = self.redis.get(sid_key(sid))
        if not value or "/" not in value:
            return None
        slug, message_id = value.split("/", 1)
        return slug, message_id

    def opt_out(self, slug: str, digest: str) -> None:
        self.redis.sadd(optout_key(slug), digest)

    def opt_in(self, slug: str, digest: str) -> None:
        self.redis.srem(optout_key(slug), digest)

    def is_opted_out(self, slug: str, digest: str) -> bool:
        return bool(self.redis.sismember(optout_key(slug), digest))

    def first_time(self, key_suffix: str, slug: str, ttl_seconds: int) -> bool:
        """A once-per-window latch (e.g. one "not on the list" reply an hour per number)."""
        return bool(self.redis.set(f"{tag(slug)}:once:{key_suffix}", "1", nx=True, ex=ttl_seconds))

    def count_inbound(self, slug: str, digest: str, window_seconds: int) -> int:
        """Texts received from one number in the current window (a fixed window, started by the first)."""
        key = f"{tag(slug)}:inrate:{digest}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def seen_inbound(self, slug: str, message_sid: str) -> bool:
        """True when this MessageSid was already handled (Twilio retries webhooks)."""
        return not self.redis.set(inbound_seen_key(slug, message_sid), "1", nx=True, ex=24 * 3600)


# --- Owner's stats, visit records and erasure -------------------------------------------------------
# Events fold into per-day counter hashes (rules in waitlist.services.stats). The stream cursor is the fold's
# version: a fold WATCHes it, reads, and writes its increments and the new cursor in one MULTI, so two
# folders never count an event twice (the loser retries from the winner's cursor). Anything else that
# rewrites fold output (forget) also rewrites the cursor in its transaction.

STATS_SEEN_TTL_SECONDS = 3 * 24 * 3600
STATS_FINISH_TTL_SECONDS = 24 * 3600
STATS_FOLD_BATCH = 500
STATS_FOLD_ATTEMPTS = 20


def stats_cursor_key(slug: str) -> str:
    return f"{tag(slug)}:stats:cursor"


def stats_day_key(slug: str, day: str) -> str:
    return f"{tag(slug)}:stats:day:{day}"


def stats_seen_key(slug: str, day: str) -> str:
    return f"{tag(slug)}:stats:seen:{day}"


def stats_finish_key(slug: str, party_id: str) -> str:
    return f"{tag(slug)}:stats:fin:{party_id}"


def stats_month_key(slug: str, month: str) -> str:
    return f"{tag(slug)}:stats:month:{month}"


def visits_key(slug: str, day: str) -> str:
    return f"{tag(slug)}:visits:{day}"


def _stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class StatsStore:
    """Per-day aggregates folded from the event stream, the per-visit records behind the CSV export,
    and erasure (retention sweep, forgetting one number)."""

    def __init__(self, redis: Redis):
        self.redis: Any = redis  # decoded replies (str), which redis-py's stubs cannot express

    # --- folding ---

    def cursor(self, slug: str) -> str:
        return self.redis.get(stats_cursor_key(slug)) or "0-0"

    def fold(self, slug: str, zone: Any, retention_days: int, *, batch: int = STATS_FOLD_BATCH,
             attempts: int = STATS_FOLD_ATTEMPTS) -> int:
        """Fold every event past the cursor; returns how many this call folded. Gives up quietly after
        ``attempts`` lost races: another folder is then doing the same work."""
        from redis.exceptions import WatchError

        from waitlist.services import stats

        folded, lost = 0, 0
        while lost < attempts:
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(stats_cursor_key(slug))
                    cursor = pipe.get(stats_cursor_key(slug)) or "0-0"
                    entries = pipe.xrange(events_key(slug), f"({cursor}", "+", count=batch)
                    if not entries:
                        pipe.unwatch()
                        return folded
                    result = stats.fold(
                        entries, zone,
                        finish_of=lambda pid: _json_or_none(pipe.get(stats_finish_key(slug, pid))),
                        seen=lambda day, token: bool(pipe.sismember(stats_seen_key(slug, day), token)),
                        party_info=lambda pid: pipe.hgetall(party_key(slug, pid)),
                    )
                    updates = self._merge_visit_updates(pipe, slug, result.visit_updates)
                    pipe.multi()
                    self._write_fold(pipe, slug, zone, retention_days, result, updates)
                    pipe.set(stats_cursor_key(slug), result.last_id)
                    pipe.execute()
                except WatchError:
                    lost += 1
                    continue
            folded += result.events
            if len(entries) < batch:
                return folded
        return folded

    @staticmethod
    def _merge_visit_updates(pipe: Any, slug: str, updates: dict[str, tuple[str, dict[str, Any]]]
                             ) -> dict[tuple[str, str], dict[str, Any]]:
        """Feedback for visits folded earlier: find each record (its day is at most 3 days before the
        feedback) and merge the rating or comment in. Records already erased stay erased."""
        from datetime import date, timedelta

        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for party_id, (day, fields) in updates.items():
            for back in range(4):
                visit_day = (date.fromisoformat(day) - timedelta(days=back)).isoformat()
                raw = pipe.hget(visits_key(slug, visit_day), party_id)
                if raw:
                    merged[(visit_day, party_id)] = {**json.loads(raw), **fields}
                    break
        return merged

    @staticmethod
    def _write_fold(pipe: Any, slug: str, zone: Any, retention_days: int, result: Any,
                    updates: dict[tuple[str, str], dict[str, Any]]) -> None:
        from waitlist.services import stats

        for day, counter in result.counters.items():
            for name, value in counter.items():
                if value:
                    pipe.hincrby(stats_day_key(slug, day), name, value)
                    pipe.hincrby(stats_month_key(slug, day[:7]), name, value)
        for day, tokens in result.seen.items():
            if tokens:
                pipe.sadd(stats_seen_key(slug, day), *tokens)
                pipe.expire(stats_seen_key(slug, day), STATS_SEEN_TTL_SECONDS)
        for party_id in result.undone:
            pipe.delete(stats_finish_key(slug, party_id))
        for party_id, finish in result.finishes.items():
            pipe.set(stats_finish_key(slug, party_id), json.dumps(finish), ex=STATS_FINISH_TTL_SECONDS)
        for day, party_id in result.removed_visits:
            pipe.hdel(visits_key(slug, day), party_id)
        for (day, party_id), record in {**result.visits, **updates}.items():
            pipe.hset(visits_key(slug, day), party_id, json.dumps(record, separators=(",", ":")))
            pipe.expireat(visits_key(slug, day), int(stats.day_bounds(day, zone)[1] + retention_days * 86400))

    # --- reading ---

    def days(self, slug: str, days: Sequence[str]) -> list[tuple[str, Any]]:
        """Each day's counters (empty for a day without any), in the order asked."""
        from waitlist.services import stats

        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(stats_day_key(slug, day))
        return [(day, stats.parse_day(raw)) for day, raw in zip(days, pipe.execute())]

    def range(self, slug: str, days: Sequence[str], breakdown: bool) -> tuple[list[tuple[str, Any]], Any]:
        """Each day's counters and the range's total. Broken down, every day is read whole; otherwise
        each day only its DAY_FIELDS, and the total comes from the months the range covers completely
        plus its other days: a year reads 12 rollups instead of 365 whole days."""
        from waitlist.services import stats

        if breakdown:
            return self.days(slug, days), None
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hmget(stats_day_key(slug, day), stats.DAY_FIELDS)
        per_day = [(day, stats.parse_day({k: v for k, v in zip(stats.DAY_FIELDS, values) if v is not None}))
                   for day, values in zip(days, pipe.execute())]
        months, loose = stats.split_range(days)
        pipe = self.redis.pipeline(transaction=False)
        for month in months:
            pipe.hgetall(stats_month_key(slug, month))
        for day in loose:
            pipe.hgetall(stats_day_key(slug, day))
        return per_day, stats.merge(stats.parse_day(raw) for raw in pipe.execute())

    def visits(self, slug: str, days: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        """Visit records of those days (kept retention_days), by day, then by join time."""
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hvals(visits_key(slug, day))
        out: list[tuple[str, dict[str, Any]]] = []
        for day, values in zip(days, pipe.execute()):
            records = sorted((json.loads(v) for v in values), key=lambda r: r.get("joined") or 0)
            out.extend((day, record) for record in records)
        return out

    # --- erasure ---

    def expire_visits(self, slug: str, zone: Any, retention_days: int, now: float) -> int:
        """Re-apply the retention to every kept day (the setting may have changed); returns days erased."""
        from waitlist.services import stats

        erased = 0
        prefix = visits_key(slug, "")
        for key in self.redis.scan_iter(match=f"{prefix}*", count=500):
            day = key[len(prefix):]
            try:
                until = int(stats.day_bounds(day, zone)[1] + retention_days * 86400)
            except ValueError:
                continue
            if until <= now:
                erased += int(self.redis.delete(key))
            else:
                self.redis.expireat(key, until)
        return erased

    def erase_old_messages(self, slug: str, cutoff: float) -> int:
        """Texts (numbers and bodies) created before ``cutoff``, and conversations left empty."""
        erased = 0
        for key in self.redis.scan_iter(match=f"{message_prefix(slug)}*", count=500):
            created, sid = self.redis.hmget(key, "created_at", "sid")
            if created and float(created) < cutoff:
                erased += int(self.redis.delete(key))
                if sid:
                    self.redis.delete(sid_key(sid))
        for key in self.redis.scan_iter(match=f"{tag(slug)}:conv:*", count=500):
            ids = self.redis.lrange(key, 0, -1)
            if not any(self.redis.exists(message_key(slug, mid)) for mid in ids):
                self.redis.delete(key)
        return erased

    def erase_old_parties(self, slug: str, cutoff: float) -> int:
        """Finished parties (names, numbers) that left the list before ``cutoff``. Parties expire 3 days
        after finishing anyway; this matters only for a retention shorter than that."""
        erased = 0
        for key in self.redis.scan_iter(match=f"{party_prefix(slug)}*", count=500):
            status, finished, token = self.redis.hmget(key, "status", "finished_at", "token")
            if status in ("seated", "completed", "cancelled", "no_show") and finished and float(finished) < cutoff:
                erased += int(self.redis.delete(key))
                self.redis.zrem(finished_key(slug), key[len(party_prefix(slug)):])
                if token:
                    self._forget_link(slug, token)
        return erased

    def _forget_link(self, slug: str, token: str) -> None:
        """A guest link stops resolving: its key, and its key from before links carried a code (a
        global key, so a command of its own)."""
        self.redis.delete(token_key(slug, token))
        self.redis.delete(legacy_token_key(token))

    def erase_old_comments(self, slug: str, cutoff: float) -> int:
        """Guests' feedback comments are their own words: drop them from the stream once folded and old."""
        limit = min(_stream_id(self.cursor(slug)), (int(cutoff * 1000), 0))
        if limit <= (0, 0):
            return 0
        doomed = [eid for eid, fields in self.redis.xrange(events_key(slug), "-", f"{limit[0]}-{limit[1]}")
                  if fields.get("type") == "feedback" and fields.get("comment")]
        return int(self.redis.xdel(events_key(slug), *doomed)) if doomed else 0

    def parties_with_phone(self, slug: str, phone: str) -> list[str]:
        found = []
        for key in self.redis.scan_iter(match=f"{party_prefix(slug)}*", count=500):
            if self.redis.hget(key, "phone") == phone:
                found.append(key[len(party_prefix(slug)):])
        return found

    def forget_phone(self, slug: str, phone: str, digest: str, party_ids: Sequence[str]) -> dict[str, int]:
        """Erase one number's parties, texts, visit records and latches in this restaurant. Active
        parties must have been taken off the list first (the service does that). The opt-out list keeps
        its keyed hash, so a guest who texted STOP stays opted out."""
        erased = {"parties": 0, "messages": 0, "visits": 0, "latches": 0, "events": 0}
        parties = set(party_ids)
        for party_id in parties:
            token = self.redis.hget(party_key(slug, party_id), "token")
            for message_id in self.redis.lrange(conversation_key(slug, party_id), 0, -1):
                erased["messages"] += self._erase_message(slug, message_id)
            self.redis.delete(conversation_key(slug, party_id))
            erased["parties"] += int(self.redis.delete(party_key(slug, party_id)))
            self.redis.zrem(finished_key(slug), party_id)
            if token:
                self._forget_link(slug, token)
        for key in self.redis.scan_iter(match=f"{message_prefix(slug)}*", count=500):
            to, from_ = self.redis.hmget(key, "to", "from")
            if phone in (to, from_):
                erased["messages"] += self._erase_message(slug, key[len(message_prefix(slug)):])
        erased["visits"] = self._forget_visits(slug, phone, parties)
        for pattern in (f"{tag(slug)}:once:*{digest}*", f"{tag(slug)}:inrate:{digest}",
                        f"{tag(slug)}:awaitfb:{digest}", f"{tag(slug)}:joins:{digest}:*"):
            for key in self.redis.scan_iter(match=pattern, count=500):
                erased["latches"] += int(self.redis.delete(key))
        doomed = [eid for eid, fields in self.redis.xrange(events_key(slug), "-", "+")
                  if fields.get("type") == "feedback" and fields.get("party") in parties
                  and _stream_id(eid) <= _stream_id(self.cursor(slug))]
        if doomed:
            erased["events"] = int(self.redis.xdel(events_key(slug), *doomed))
        return erased

    def _erase_message(self, slug: str, message_id: str) -> int:
        sid = self.redis.hget(message_key(slug, message_id), "sid")
        if sid:
            self.redis.delete(sid_key(sid))
        return int(self.redis.delete(message_key(slug, message_id)))

    def _forget_visits(self, slug: str, phone: str, parties: set[str]) -> int:
        """Visit records are fold output: rewrite them under the fold's cursor like a fold would."""
        from redis.exceptions import WatchError

        prefix = visits_key(slug, "")
        keys = list(self.redis.scan_iter(match=f"{prefix}*", count=500))
        for _attempt in range(STATS_FOLD_ATTEMPTS):
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(stats_cursor_key(slug))
                    cursor = pipe.get(stats_cursor_key(slug)) or "0-0"
                    doomed = [(key, party_id) for key in keys for party_id, raw in pipe.hgetall(key).items()
                              if party_id in parties or json.loads(raw).get("phone") == phone]
                    pipe.multi()
                    for key, party_id in doomed:
                        pipe.hdel(key, party_id)
                    pipe.set(stats_cursor_key(slug), cursor)
                    pipe.execute()
                    return len(doomed)
                except WatchError:
                    continue
        raise RuntimeError("could not erase visit records: the stats fold kept racing")


def _json_or_none(raw: str | None) -> Any:
    return json.loads(raw) if raw else None
