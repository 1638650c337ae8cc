"""The line key kept by splicing, a long line worked out in slices, and moves that touch one score: no
script does work in proportion to the line's length (issue 26)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fakeredis
import pytest

from tests.unit.test_line_key import CHANGES, NOW, SIZES, SLUG, join, transition
from waitlist.domain.model import Status
from waitlist.store import Store, keys, line_key, listing


@pytest.fixture
def store() -> Store:
    store = Store(fakeredis.FakeRedis(decode_responses=True))
    for pid, size in SIZES.items():
        join(store, pid, size)
    join(store, "n", 8)
    transition(store, "n", Status.NOTIFIED, hold_until=NOW + 600)
    join(store, "p", 7, pending=True)
    store.snapshot(SLUG)
    return store


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_splices_the_line_key_instead_of_dropping_it(store: Store, change: Callable[[Store], Any]) -> None:
    change(store)
    assert str(store.redis.get(line_key(SLUG))).startswith("=")


def test_moves_keep_the_order_a_plain_list_would_even_past_what_halving_scores_can_split(store: Store) -> None:
    line = ["a", "b", "c", "d", "e"]
    for i in range(70):  # each move lands in the same gap, which halves every time until it cannot
        pid = line[-1]
        store.move(SLUG, pid, 2, now=NOW, actor="host", almost_ready_position=2)
        line.remove(pid)
        line.insert(1, pid)
        if i % 10 == 0:  # and now and then a move down
            store.move(SLUG, line[0], 4, now=NOW, actor="host", almost_ready_position=2)
            line.insert(3, line.pop(0))
    assert store.redis.zrange(keys.waiting_key(SLUG), 0, -1) == line
    assert store.snapshot(SLUG).waiting_sizes == [SIZES[pid] for pid in line]


def fill(store: Store, count: int) -> list[int]:
    """A long line written straight into Redis behind the fixture's, with no line key; the waiting
    sizes in order."""
    pipe = store.redis.pipeline(transaction=False)
    sizes = [1 + i % 9 for i in range(count)]
    for i, size in enumerate(sizes):
        pid = f"w{i:05d}"
        pipe.hset(keys.party_key(SLUG, pid), mapping={"party_size": str(size), "status": "waiting"})
        pipe.hset(keys.sizes_key(SLUG), pid, str(size))
        pipe.zadd(keys.waiting_key(SLUG), {pid: 100 + i})
    pipe.delete(line_key(SLUG))
    pipe.execute()
    return list(SIZES.values()) + sizes


class Counting:
    """Records what the store asks Redis: the scripts run and every ZRANGE's span."""

    def __init__(self, store: Store):
        self.scripts: list[str] = []
        self.spans: list[int] = []
        run, zrange = store._run, store.redis.zrange

        def counting_run(name: str, script_keys: Any, args: Any = ()) -> Any:
            self.scripts.append(name)
            return run(name, script_keys, args)

        def counting_zrange(key: str, start: int, end: int, *rest: Any, **options: Any) -> Any:
            self.spans.append(end - start + 1)
            return zrange(key, start, end, *rest, **options)

        store._run = counting_run
        store.redis.zrange = counting_zrange


def test_a_long_line_missing_its_key_is_read_in_slices_and_kept(store: Store) -> None:
    expected = fill(store, 3000)
    calls = Counting(store)
    snapshot = store.snapshot(SLUG)
    assert snapshot.waiting_sizes == expected and snapshot.notified_sizes == [8]
    assert calls.scripts == ["snapshot", "line_set"]  # the script answered '?' rather than read 3,000
    assert max(calls.spans) == listing.LINE_SLICE and len(calls.spans) == 10  # 7 + 1 slices, 2 empty ends
    calls.scripts.clear()
    calls.spans.clear()
    transition(store, "w00010", Status.SEATED)
    assert store.snapshot(SLUG).waiting_sizes == expected[:15] + expected[16:]
    assert calls.scripts == ["transition", "snapshot"] and calls.spans == []  # kept, not worked out again


def test_a_change_while_the_line_is_read_in_slices_makes_it_read_again(store: Store) -> None:
    expected = fill(store, 1200)
    hmget = store.redis.hmget
    seated: list[str] = []

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        if not seated:
            seated.append("w00003")
            transition(store, "w00003", Status.SEATED)  # drops the build's mark: its read is stale
        return hmget(*args, **kwargs)

    store.redis.hmget = meanwhile
    snapshot = store.snapshot(SLUG)
    assert snapshot.waiting_sizes == expected[:8] + expected[9:]
    store.redis.hmget = hmget
    kept = store.redis.get(line_key(SLUG))
    store.redis.delete(line_key(SLUG))
    assert store.snapshot(SLUG).waiting_sizes == expected[:8] + expected[9:]
    assert store.redis.get(line_key(SLUG)) == kept
