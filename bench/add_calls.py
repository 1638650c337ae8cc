"""What one add authenticated by the restaurant key costs, counted rather than timed: Redis commands
and Python function calls per add (sys.setprofile), over fakeredis. Deterministic, so it compares two
commits on a shared machine where timings and even a shared Redis database are not to be trusted.

    .venv/bin/python bench/add_calls.py [ROOT]      # ROOT: a checkout (e.g. `git archive <c> | tar -x`)

Run it from inside ROOT so ``tests`` and ``waitlist`` are ROOT's. It leaves out what valgrind counts
and this does not (C code: the Lua scripts, JSON, redis-py's parser); bench/add_instructions.py counts
that, on a real Redis.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import fakeredis

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")

from tests.conftest import ADMIN_TOKEN, make_config  # noqa: E402
from tests.fakes import RecordingDispatcher  # noqa: E402
from waitlist.web.app import create_app  # noqa: E402

WARMUP, COUNTED = 20, 50


def main() -> None:
    redis = fakeredis.FakeRedis(decode_responses=True)
    commands: list[str] = []
    original = redis.execute_command

    def counting(*args: Any, **kwargs: Any) -> Any:
        commands.append(str(args[0]))
        return original(*args, **kwargs)

    redis.execute_command = counting  # type: ignore[method-assign]
    app = create_app(make_config(rate_limits_enabled=False), redis=redis, dispatcher=RecordingDispatcher())
    client = app.test_client()
    key = client.post("/api/v1/restaurants", json={"slug": "bench-one", "name": "B", "sms_from": "+14155550100"},
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_json()["api_key"]

    def add(i: int) -> None:
        response = client.post("/api/v1/restaurants/bench-one/parties", headers={"Authorization": f"Bearer {key}"},
                               json={"name": "Ana", "phone": f"+1415555{3000 + i:04d}", "party_size": 2})
        assert response.status_code == 201, response.get_json()

    for i in range(WARMUP):
        add(i)
    calls = [0]

    def profile(_frame: Any, event: str, _arg: Any) -> None:
        if event in ("call", "c_call"):
            calls[0] += 1

    commands.clear()
    sys.setprofile(profile)
    for i in range(WARMUP, WARMUP + COUNTED):
        add(i)
    sys.setprofile(None)
    print(json.dumps({"redis_commands_per_add": len(commands) / COUNTED, "python_calls_per_add": calls[0] / COUNTED,
                      "commands": Counter(commands).most_common()}))


if __name__ == "__main__":
    main()
