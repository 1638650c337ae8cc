"""Erasing guests' data: the retention sweep (visit records, texts, parties, feedback comments older
than the restaurant keeps them) and forgetting one number everywhere in a restaurant.

The anonymous counters stay: they name nobody. Visit records are the stats fold's output, so they are
rewritten under the fold's cursor, as a fold would (waitlist.store.stats).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from redis import Redis
from redis.exceptions import WatchError

from waitlist.domain import stats
from waitlist.domain.model import FINISHED
from waitlist.store import keys

SCAN_COUNT = 500
ERASE_ATTEMPTS = 20
"""Tries at rewriting visit records against a racing fold before giving up."""


def _stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Erasure:
    """What erases personal data; the stats store is one (it owns the visit records)."""

    def __init__(self, redis: Redis):
        self.redis: Any = redis  # decoded replies (str), which redis-py's stubs cannot express

    def cursor(self, slug: str) -> str:
        """The id of the last event the stats fold counted."""
        return self.redis.get(keys.stats_cursor_key(slug)) or "0-0"

    # --- the retention sweep ---

    def expire_visits(self, slug: str, zone: ZoneInfo, retention_days: int, now: float) -> int:
        """Re-apply the retention to every kept day (the setting may have changed); returns days erased."""
        erased = 0
        prefix = keys.visits_key(slug, "")
        for key in self.redis.scan_iter(match=f"{prefix}*", count=SCAN_COUNT):
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
        for key in self.redis.scan_iter(match=f"{keys.message_prefix(slug)}*", count=SCAN_COUNT):
            created, sid = self.redis.hmget(key, "created_at", "sid")
            if created and float(created) < cutoff:
                erased += int(self.redis.delete(key))
                if sid:
                    self.redis.delete(keys.sid_key(sid))
        for key in self.redis.scan_iter(match=keys.conversation_pattern(slug), count=SCAN_COUNT):
            ids = self.redis.lrange(key, 0, -1)
            if not any(self.redis.exists(keys.message_key(slug, mid)) for mid in ids):
                self.redis.delete(key)
        return erased

    def erase_old_parties(self, slug: str, cutoff: float) -> int:
        """Finished parties (names, numbers) that left the list before ``cutoff``. Parties expire 3 days
        after finishing anyway; this matters only for a retention shorter than that."""
        erased = 0
        prefix = keys.party_prefix(slug)
        for key in self.redis.scan_iter(match=f"{prefix}*", count=SCAN_COUNT):
            status, finished, token = self.redis.hmget(key, "status", "finished_at", "token")
            if status in FINISHED and finished and float(finished) < cutoff:
                erased += int(self.redis.delete(key))
                self.redis.zrem(keys.finished_key(slug), key[len(prefix):])
                if token:
                    self._forget_link(slug, token)
        return erased

    def _forget_link(self, slug: str, token: str) -> None:
        """A guest link stops resolving: its key, and its key from before links carried a code (a
        global key, so a command of its own)."""
        self.redis.delete(keys.token_key(slug, token))
        self.redis.delete(keys.legacy_token_key(token))

    def erase_old_comments(self, slug: str, cutoff: float) -> int:
        """Guests' feedback comments are their own words: drop them from the stream once folded and old."""
        limit = min(_stream_id(self.cursor(slug)), (int(cutoff * 1000), 0))
        if limit <= (0, 0):
            return 0
        doomed = [eid for eid, fields in self.redis.xrange(keys.events_key(slug), "-", f"{limit[0]}-{limit[1]}")
                  if fields.get("type") == "feedback" and fields.get("comment")]
        return int(self.redis.xdel(keys.events_key(slug), *doomed)) if doomed else 0

    # --- forgetting one number ---

    def parties_with_phone(self, slug: str, phone: str) -> list[str]:
        found = []
        prefix = keys.party_prefix(slug)
        for key in self.redis.scan_iter(match=f"{prefix}*", count=SCAN_COUNT):
            if self.redis.hget(key, "phone") == phone:
                found.append(key[len(prefix):])
        return found

    def forget_phone(self, slug: str, phone: str, digest: str, party_ids: Sequence[str]) -> dict[str, int]:
        """Erase one number's parties, texts, visit records and latches in this restaurant. Active
        parties must have been taken off the list first (the service does that). The opt-out list keeps
        its keyed hash, so a guest who texted STOP stays opted out."""
        erased = {"parties": 0, "messages": 0, "visits": 0, "latches": 0, "events": 0}
        parties = set(party_ids)
        for party_id in parties:
            token = self.redis.hget(keys.party_key(slug, party_id), "token")
            for message_id in self.redis.lrange(keys.conversation_key(slug, party_id), 0, -1):
                erased["messages"] += self._erase_message(slug, message_id)
            self.redis.delete(keys.conversation_key(slug, party_id))
            erased["parties"] += int(self.redis.delete(keys.party_key(slug, party_id)))
            self.redis.zrem(keys.finished_key(slug), party_id)
            if token:
                self._forget_link(slug, token)
        message_prefix = keys.message_prefix(slug)
        for key in self.redis.scan_iter(match=f"{message_prefix}*", count=SCAN_COUNT):
            to, from_ = self.redis.hmget(key, "to", "from")
            if phone in (to, from_):
                erased["messages"] += self._erase_message(slug, key[len(message_prefix):])
        erased["visits"] = self._forget_visits(slug, phone, parties)
        for pattern in keys.latch_patterns(slug, digest):
            for key in self.redis.scan_iter(match=pattern, count=SCAN_COUNT):
                erased["latches"] += int(self.redis.delete(key))
        doomed = [eid for eid, fields in self.redis.xrange(keys.events_key(slug), "-", "+")
                  if fields.get("type") == "feedback" and fields.get("party") in parties
                  and _stream_id(eid) <= _stream_id(self.cursor(slug))]
        if doomed:
            erased["events"] = int(self.redis.xdel(keys.events_key(slug), *doomed))
        return erased

    def _erase_message(self, slug: str, message_id: str) -> int:
        sid = self.redis.hget(keys.message_key(slug, message_id), "sid")
        if sid:
            self.redis.delete(keys.sid_key(sid))
        return int(self.redis.delete(keys.message_key(slug, message_id)))

    def _forget_visits(self, slug: str, phone: str, parties: set[str]) -> int:
        """Visit records are fold output: rewrite them under the fold's cursor like a fold would."""
        cursor_key = keys.stats_cursor_key(slug)
        prefix = keys.visits_key(slug, "")
        visit_keys = list(self.redis.scan_iter(match=f"{prefix}*", count=SCAN_COUNT))
        for _attempt in range(ERASE_ATTEMPTS):
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(cursor_key)
                    cursor = pipe.get(cursor_key) or "0-0"
                    doomed = [(key, party_id) for key in visit_keys for party_id, raw in pipe.hgetall(key).items()
                              if party_id in parties or json.loads(raw).get("phone") == phone]
                    pipe.multi()
                    for key, party_id in doomed:
                        pipe.hdel(key, party_id)
                    pipe.set(cursor_key, cursor)
                    pipe.execute()
                    return len(doomed)
                except WatchError:
                    continue
        raise RuntimeError("could not erase visit records: the stats fold kept racing")
