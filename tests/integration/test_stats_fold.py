"""Folding the stats over the real Redis: concurrent folders count every event exactly once."""
from __future__ import annotations

import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import make_config
from tests.fakes import RecordingDispatcher
from waitlist.domain import stats
from waitlist.store import StatsStore
from waitlist.web.app import create_app

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("UTC")


def test_folders_in_many_threads_count_each_event_once_while_events_keep_coming(real_redis: Any) -> None:
    app = create_app(make_config(), redis=real_redis, dispatcher=RecordingDispatcher())
    waitlist = app.extensions["waitlist"]
    restaurant, _key = waitlist.create_restaurant("fold-bar", "Fold Bar", "+14155550142")
    store = StatsStore(real_redis)
    stop = threading.Event()
    folded: list[int] = []
    errors: list[BaseException] = []

    def folder() -> None:
        try:
            while not stop.is_set():
                folded.append(store.fold("fold-bar", ZONE, 30, batch=7))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=folder) for _ in range(8)]
    for thread in threads:
        thread.start()
    seated = 0
    for n in range(120):
        party = waitlist.join(restaurant, name=f"Guest {n}", phone=f"+1415555{3000 + n:04d}", party_size=2)
        if n % 3 == 0:
            waitlist.seat(restaurant, party.id)
            seated += 1
        elif n % 3 == 1:
            waitlist.cancel(restaurant, party.id, confirm=False)
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    folded.append(store.fold("fold-bar", ZONE, 30))
    events = real_redis.xlen("wl:{fold-bar}:events")
    assert sum(folded) == events
    assert sum(1 for n in folded if n) > 1  # the work really was shared between folders
    day = stats.service_day(waitlist.clock(), ZONE)
    total = stats.summarize(store.days("fold-bar", [day])[0][1])
    assert (total["parties"]["joined"], total["parties"]["seated"], total["parties"]["cancelled"]) == (120, seated, 40)
    assert len(store.visits("fold-bar", [day])) == 80
