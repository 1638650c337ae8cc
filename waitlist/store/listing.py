"""Reading a restaurant's list in bounded slices, and the cursor that pages it.

One Lua script over a whole line held Redis for 13 ms at 1,000 parties and 44 ms at 3,000, and every
other restaurant's request waited behind it (issue 26). So every list read is a walk of short scripts
(lua/list_page.lua), each reading at most ``SLICE`` parties (well under a millisecond of Redis), each
going on after the last party the one before returned. A long list then costs more round trips, but
never a long hold: other restaurants' commands run between the slices.

The cursor names a party and its score, not an offset: parties that join or leave while a client pages
move nobody across a page boundary, so nobody is missed or shown twice. A party that changes section
meanwhile (notified while the client reads the waiting ones) can show in both; clients key by id.
A whole-list read of more than one slice is not one atomic view for the same reason, so it keeps each
party once, as last read.
"""
from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import Party
from waitlist.store import codec, keys

SLICE = 50
"""Parties one script reads: about 10 us of Redis each (HGETALL, a Lua table, cjson), so a slice holds
it for about half a millisecond (bench/list_bench.py measures the longest; 100 took a millisecond)."""

PAGE = 100
"""An API page when the client gives a cursor and no limit."""
MAX_PAGE = 500

SECTIONS: dict[str, tuple[str, ...]] = {
    "active": ("waiting", "notified", "pending"),
    "waiting": ("waiting",),
    "notified": ("notified",),
    "pending": ("pending",),
    "finished": ("finished",),
}
"""What a list walks, in order, by what it lists."""

_SET_KEYS: dict[str, Callable[[str], str]] = {
    "waiting": keys.waiting_key, "notified": keys.notified_key, "pending": keys.pending_key,
    "finished": keys.finished_key,
}
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
_SCORE = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,20})?(?:e[+-]?[0-9]{1,3})?\Z")
"""A score as Redis writes one (no "nan", "inf" or spaces, which a script would choke on)."""
_BAD_CURSOR = "is not a cursor this list gave (start again without one)"


@dataclass(frozen=True)
class Cursor:
    """Where a walk goes on: after party ``party_id`` at ``score`` in the ``section``-th set of ``kind``."""

    kind: str
    section: int
    score: str
    party_id: str

    def text(self) -> str:
        """Opaque to clients: URL-safe base64 of the fields."""
        raw = f"{self.kind}|{self.section}|{self.score}|{self.party_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str, kind: str) -> Cursor:
        """The cursor a page of a ``kind`` list gave; InvalidInput (400) for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            got_kind, section, score, party_id = raw.split("|")
            cursor = cls(got_kind, int(section), score, party_id)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidInput("bad cursor", fields={"cursor": [_BAD_CURSOR]}) from None
        if (cursor.kind != kind or not 1 <= cursor.section <= len(SECTIONS[kind]) or not _ID.match(party_id)
                or not _SCORE.match(score) or not text.isascii()):
            raise InvalidInput("bad cursor", fields={"cursor": [_BAD_CURSOR]})
        return cursor


@dataclass(frozen=True)
class Page:
    parties: list[Party]
    next: Cursor | None
    """None once the list is read to its end."""


def read_slice(run: Callable[..., Any], slug: str, kind: str, after: Cursor | None, count: int,
               since: float | None = None) -> Page:
    """At most ``count`` (<= SLICE) parties of a ``kind`` list after ``after``, in one short script.
    ``since`` bounds the finished list to parties that left since then."""
    sections = SECTIONS[kind]
    script_keys = [keys.party_prefix(slug), *(_SET_KEYS[name](slug) for name in sections)]
    args: dict[str, Any] = {"count": min(count, SLICE), "min": repr(since) if since is not None else "-inf",
                            "ranked": 2 + sections.index("waiting") if "waiting" in sections else 0}
    if after is not None:
        args["after"] = [after.section + 1, after.score, after.party_id]
    entries, section, score, party_id = run("list_page", script_keys, [orjson.dumps(args)])
    following = Cursor(kind, int(section) - 1, score, party_id) if section else None
    return Page(codec.parties_from_entries(slug, entries), following)


def read_page(run: Callable[..., Any], slug: str, kind: str, after: Cursor | None, count: int,
              since: float | None = None, keep: Callable[[Party], bool] = lambda party: True) -> Page:
    """Up to ``count`` parties that ``keep`` accepts, read in slices: a page of 500 is ten short
    scripts, not one long one."""
    found: list[Party] = []
    cursor = after
    while True:
        page = read_slice(run, slug, kind, cursor, min(SLICE, count - len(found)), since)
        found += [party for party in page.parties if keep(party)]
        cursor = page.next
        if cursor is None or len(found) >= count:
            return Page(found[:count], cursor)


def read_all(run: Callable[..., Any], slug: str, kind: str, since: float | None = None) -> list[Party]:
    """The whole list in slices. Read in one slice it is one atomic view, as before; over several,
    a party that changed section between two slices is kept once, where it was read last."""
    read: dict[str, Party] = {}
    cursor: Cursor | None = None
    while True:
        page = read_slice(run, slug, kind, cursor, SLICE, since)
        for party in page.parties:
            read.pop(party.id, None)  # read again further on: its later place and state count
            read[party.id] = party
        if page.next is None:
            return list(read.values())
        cursor = page.next


@dataclass(frozen=True)
class Placed:
    """Where a party stands now, for a live tablet patching one row."""

    party: Party | None
    """None when there is no such party (never was, or its record expired)."""
    section: str
    """waiting | notified | pending | finished (left the list since ``since``) | gone"""
    index: int = 0
    """Its 0-based rank in its section (finished: 0, the newest first)."""


@dataclass(frozen=True)
class Rows:
    placed: dict[str, Placed]
    counts: dict[str, int]
    """waiting, notified, pending, and finished since ``since``: a tablet checks its list against them."""


def read_rows(redis: Any, slug: str, ids: list[str], since: float) -> Rows:
    """The parties ``ids`` and their places, and the list's counts, in one MULTI (a few O(log n)
    commands per party: no long hold whatever the list's size)."""
    sets = [_SET_KEYS[name](slug) for name in ("waiting", "notified", "pending")]
    pipe = redis.pipeline(transaction=True)
    for pid in ids:
        pipe.hgetall(keys.party_key(slug, pid))
        for key in sets:
            pipe.zrank(key, pid)
    for key in sets:
        pipe.zcard(key)
    pipe.zcount(keys.finished_key(slug), since, "+inf")
    replies = pipe.execute()
    placed: dict[str, Placed] = {}
    for n, pid in enumerate(ids):
        fields, *ranks = replies[n * 4:n * 4 + 4]
        if not fields or "status" not in fields:
            placed[pid] = Placed(None, "gone")
            continue
        section, rank = next(((name, r) for name, r in zip(("waiting", "notified", "pending"), ranks)
                              if r is not None), ("", None))
        position = rank + 1 if section == "waiting" and rank is not None else None
        party = codec.party_from_hash(slug, pid, fields, position)
        if rank is not None:
            placed[pid] = Placed(party, section, rank)
        elif float(fields.get("finished_at") or 0) >= since:
            placed[pid] = Placed(party, "finished")
        else:
            placed[pid] = Placed(party, "gone")
    counts = dict(zip(("waiting", "notified", "pending", "finished"), (int(v) for v in replies[len(ids) * 4:])))
    return Rows(placed, counts)


# --- the line key, worked out in slices ----------------------------------------------------------------

LINE_UNKNOWN = "?"
"""What the snapshot answers for the waiting sizes when the line key is missing and the line is too
long to work out in one script (lua/includes/line.lua, BUILD_MAX)."""
LINE_SLICE = 500
"""Ids a slice reads (ZRANGE, then HMGET of their sizes): about 0.1 ms of Redis each."""
SIZE_WIDTH, ID_WIDTH = 3, 16


def _cells(ids: list[str], sizes: list[str | None]) -> tuple[str, str, bool]:
    """Fixed-width size and id cells as includes/line.lua keeps them; False when one does not fit."""
    size_cells, id_cells, whole = [], [], True
    for pid, size in zip(ids, sizes):
        if size and len(size) <= SIZE_WIDTH and len(pid) <= ID_WIDTH and " " not in pid:
            size_cells.append(size.rjust(SIZE_WIDTH))
            id_cells.append(pid.ljust(ID_WIDTH))
        else:
            whole = whole and not size  # a party gone meanwhile is simply not in line
    return "".join(size_cells), "".join(id_cells), whole


def build_line(redis: Any, run: Callable[..., Any], slug: str, tries: int = 3) -> tuple[str, str]:
    """The waiting and notified sizes of a long line whose key is missing, read in slices of
    LINE_SLICE ids, and the line key written for the next snapshot unless the line changed meanwhile
    (then read again, ``tries`` times in all; the last read is answered either way: the estimator
    needs no more than a line as it stood a moment ago)."""
    line, sizes_key = keys.line_key(slug), keys.sizes_key(slug)
    parts: list[tuple[str, str]] = []
    for _ in range(tries):
        token = secrets.token_urlsafe(9)
        redis.set(line, "~" + token, ex=60)
        parts, whole = [], True
        for key in (keys.waiting_key(slug), keys.notified_key(slug)):
            size_cells, id_cells, start = [], [], 0
            while ids := redis.zrange(key, start, start + LINE_SLICE - 1):
                sizes = redis.hmget(sizes_key, ids)
                sizes = [s or redis.hget(keys.party_key(slug, pid), "party_size") for pid, s in zip(ids, sizes)]
                cells, id_text, fits = _cells(ids, sizes)
                size_cells.append(cells)
                id_cells.append(id_text)
                whole = whole and fits
                start += LINE_SLICE
            parts.append(("".join(size_cells), "".join(id_cells)))
        (waiting, waiting_ids), (notified, notified_ids) = parts
        value = f"={waiting}|{notified}|{waiting_ids}|{notified_ids}"
        if not whole or run("line_set", [line], [orjson.dumps({"token": token, "line": value})]):
            break
    return parts[0][0], parts[1][0]


def whole_snapshot_reply(redis: Any, run: Callable[..., Any], slug: str, reply: list[Any]) -> list[Any]:
    """A snapshot script's reply with the line read in slices when the script could not (LINE_UNKNOWN)."""
    if reply[0] != LINE_UNKNOWN:
        return reply
    waiting, notified = build_line(redis, run, slug)
    return [waiting, *reply[1:4], notified, *reply[5:]]
