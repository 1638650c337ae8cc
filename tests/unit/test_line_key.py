"""The line key (waitlist.store.keys.line_key) is a cache: the sizes of the waiting and the notified
parties in order, which the snapshot reads instead of working them out. Every script that changes the
line keeps it through one Lua function (line_change); after every kind of change, the line read from
the key must equal the line worked out afresh."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fakeredis
import pytest

from waitlist.domain.errors import WaitlistError
from waitlist.domain.model import Party, Status
from waitlist.store import Store, line_key, sizes_key

SLUG = "r"
NOW = 1_790_000_000.0
SIZES = {"a": 2, "b": 4, "c": 6, "d": 3, "e": 5}
"""The line each case starts from: a..e waiting in that order, plus a pending remote join "p" (size 7)
and "n" notified (size 8)."""


def join(store: Store, pid: str, size: int, *, pending: bool = False, at: float = NOW) -> None:
    party = Party(id=pid, restaurant=SLUG, name=pid, phone=f"+1415555{ord(pid):04d}",
                  party_size=size, token=f"tok{pid}", joined_at=at)
    store.join(SLUG, party, now=at, actor="host", almost_ready_position=2,
               pending_until=at + 300 if pending else None)


def transition(store: Store, pid: str, target: Status, **extra: Any) -> None:
    store.transition(SLUG, pid, target, now=NOW + 60, actor="host", almost_ready_position=2, **extra)


def hold_version(store: Store, pid: str) -> str:
    return str(store.party_field(SLUG, pid, "hold_version"))


CHANGES: dict[str, Callable[[Store], Any]] = {
    "a join at the end": lambda s: join(s, "f", 7),
    "a pending join": lambda s: join(s, "q", 1, pending=True),
    "a pending join confirmed": lambda s: transition(s, "p", Status.WAITING),
    "a pending join lapsing": lambda s: transition(s, "p", Status.CANCELLED, allowed=[Status.PENDING]),
    "a size changed": lambda s: s.update_party(SLUG, "b", {"party_size": "8"}, now=NOW, actor="host"),
    "a notified party's size changed": lambda s: s.update_party(SLUG, "n", {"party_size": "1"}, now=NOW,
                                                                actor="host"),
    "another field changed": lambda s: s.update_party(SLUG, "c", {"notes": "window"}, now=NOW, actor="host"),
    "a move to the front": lambda s: s.move(SLUG, "d", 1, now=NOW, actor="host", almost_ready_position=2),
    "a move to the end": lambda s: s.move(SLUG, "a", 9, now=NOW, actor="host", almost_ready_position=2),
    "a notify": lambda s: transition(s, "b", Status.NOTIFIED, hold_until=NOW + 600),
    "a second notify": lambda s: transition(s, "n", Status.NOTIFIED, hold_until=NOW + 600),
    "a seat from the line": lambda s: transition(s, "c", Status.SEATED),
    "a seat of the notified": lambda s: transition(s, "n", Status.SEATED),
    "a seated party completing": lambda s: (transition(s, "n", Status.SEATED),
                                            transition(s, "n", Status.COMPLETED)),
    "a cancel": lambda s: transition(s, "a", Status.CANCELLED),
    "a no-show": lambda s: transition(s, "e", Status.NO_SHOW),
    "a hold expiring": lambda s: transition(s, "n", Status.NO_SHOW, allowed=[Status.NOTIFIED],
                                            hold_version=hold_version(s, "n")),
    "running late": lambda s: s.extend_hold(SLUG, "n", 600, now=NOW, actor="guest", most_seconds=1800),
    "an undo back into the line": lambda s: (transition(s, "b", Status.CANCELLED),
                                             s.undo(SLUG, "b", now=NOW + 70, window_seconds=60,
                                                           actor="host")),
    "a notify undone back into the line": lambda s: (transition(s, "b", Status.NOTIFIED, hold_until=NOW + 600),
                                                    s.undo(SLUG, "b", now=NOW + 70, window_seconds=60,
                                                           actor="host")),
    "an undo back to notified": lambda s: (transition(s, "n", Status.SEATED),
                                           s.undo(SLUG, "n", now=NOW + 70, window_seconds=60,
                                                         actor="host")),
}


def line_as_kept(store: Store) -> tuple[list[int], list[int]]:
    snapshot = store.snapshot(SLUG)
    return snapshot.waiting_sizes, snapshot.notified_sizes


def line_afresh(store: Store) -> tuple[list[int], list[int]]:
    store.redis.delete(line_key(SLUG))
    return line_as_kept(store)


@pytest.fixture
def store() -> Store:
    store = Store(fakeredis.FakeRedis(decode_responses=True))
    for pid, size in SIZES.items():
        join(store, pid, size)
    join(store, "n", 8)
    transition(store, "n", Status.NOTIFIED, hold_until=NOW + 600)
    join(store, "p", 7, pending=True)
    return store


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_the_line_key_equals_the_line_worked_out_afresh_after_every_change(store: Store,
                                                                           change: Callable[[Store], Any]) -> None:
    assert line_as_kept(store) == ([2, 4, 6, 3, 5], [8])  # the key is there before the change
    assert store.redis.exists(line_key(SLUG))
    change(store)
    kept = line_as_kept(store)
    assert kept == line_afresh(store)


def test_a_refused_change_leaves_the_line_key_as_it_was(store: Store) -> None:
    line_as_kept(store)
    before = store.redis.get(line_key(SLUG))
    with pytest.raises(WaitlistError):
        transition(store, "a", Status.COMPLETED)
    assert store.redis.get(line_key(SLUG)) == before


def test_the_sizes_hash_holds_every_party_on_the_list_and_no_other(store: Store) -> None:
    transition(store, "a", Status.SEATED)
    store.update_party(SLUG, "b", {"party_size": "9"}, now=NOW, actor="host")
    store.update_party(SLUG, "a", {"party_size": "1"}, now=NOW, actor="host")  # left: not kept
    assert store.redis.hgetall(sizes_key(SLUG)) == {"b": "9", "c": "6", "d": "3", "e": "5", "n": "8", "p": "7"}
