"""The benchmark's yardstick: the least a Flask + Redis waitlist could do per request.

Adding a party is one Lua script (a join-like INCR + HSET + ZADD) behind a JSON body; listing is one
Lua script returning the first 100 waiting parties' hashes. No authentication, validation, estimate or
texts: whatever the real service costs beyond this is the price of its features.

Run with ``gunicorn 'bench.baseline_app:create_app()'``; it reads REDIS_URL (default db 14) and keeps
its keys under ``bl:``, apart from the service's ``wl:`` keys.
"""
from __future__ import annotations

import os
import secrets
import time
from typing import Any

from flask import Flask, jsonify, request
from redis import Redis

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
LIST_LIMIT = 100

# KEYS[1] party hash, KEYS[2] waiting zset, KEYS[3] seq; ARGV[1] party id, ARGV[2..] field/value pairs
# -> position in the line
JOIN_LUA = """
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'status', 'waiting', unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], seq, ARGV[1])
return redis.call('ZRANK', KEYS[2], ARGV[1]) + 1
"""

# KEYS[1] waiting zset, KEYS[2] party key prefix; ARGV[1] how many
# -> flat list: {id, n, field, value, ...} per party
LIST_LUA = """
local out = {}
for _, pid in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local fields = redis.call('HGETALL', KEYS[2] .. pid)
  table.insert(out, pid)
  table.insert(out, tostring(#fields))
  for _, f in ipairs(fields) do table.insert(out, f) end
end
return out
"""


def tag(slug: str) -> str:
    return f"bl:{{{slug}}}"


def create_app(redis: Redis | None = None) -> Flask:
    app = Flask(__name__)
    redis = redis or Redis.from_url(os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL, decode_responses=True)
    join = redis.register_script(JOIN_LUA)
    listing = redis.register_script(LIST_LUA)

    @app.post("/<slug>/parties")
    def add_party(slug: str) -> Any:
        data = request.get_json()
        party_id = secrets.token_hex(6)
        fields = {"name": str(data["name"]), "phone": str(data["phone"]),
                  "party_size": str(int(data["party_size"])), "joined_at": repr(time.time())}
        pairs = [item for kv in fields.items() for item in kv]
        position = join(keys=[f"{tag(slug)}:party:{party_id}", f"{tag(slug)}:waiting", f"{tag(slug)}:seq"],
                        args=[party_id, *pairs])
        return jsonify({"id": party_id, "position": int(position), **fields}), 201

    @app.get("/<slug>/parties")
    def list_parties(slug: str) -> Any:
        flat = listing(keys=[f"{tag(slug)}:waiting", f"{tag(slug)}:party:"], args=[LIST_LIMIT])
        parties, i = [], 0
        while i < len(flat):
            count = int(flat[i + 1])
            values = flat[i + 2 : i + 2 + count]
            parties.append({"id": flat[i], **dict(zip(values[0::2], values[1::2]))})
            i += 2 + count
        return jsonify({"parties": parties})

    @app.get("/healthz")
    def healthz() -> Any:
        redis.ping()
        return jsonify({"status": "ok"})

    return app
