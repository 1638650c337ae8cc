"""Building the web app imports only what serving requests needs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BUILD_AND_LIST = """
import dataclasses, json, sys
from config import Config
from waitlist.web.app import create_app
create_app(dataclasses.replace(Config.from_env(), redis_url="redis://127.0.0.1:6379/4"))
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("fakeredis", "lupa", "twilio.rest")))))
"""


def test_building_the_web_app_on_a_real_redis_imports_no_fakeredis_lupa_or_twilio_client() -> None:
    """fakeredis and lupa serve the backtest and the embedded store, twilio.rest the worker's sender.

    A fresh interpreter, so that modules other tests imported do not count."""
    done = subprocess.run([sys.executable, "-c", BUILD_AND_LIST], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
