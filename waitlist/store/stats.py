"""The owner's stats in Redis: per-day counters folded from the event stream, and the visit records
behind the CSV export.

Events fold into per-day counter hashes (the rules: waitlist.domain.stats). The stream cursor is the
fold's version: a fold WATCHes it, reads, and writes its increments and the new cursor in one MULTI,
so two folders never count an event twice (the loser retries from the winner's cursor). Anything else
that rewrites fold output (erasure.forget_phone) also rewrites the cursor in its transaction.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from redis.exceptions import WatchError

from waitlist.domain import stats
from waitlist.store import keys
from waitlist.store.erasure import Erasure

STATS_SEEN_TTL_SECONDS = 3 * 24 * 3600
STATS_FINISH_TTL_SECONDS = 24 * 3600
STATS_FOLD_BATCH = 500
STATS_FOLD_ATTEMPTS = 20


def _json_or_none(raw: str | None) -> Any:
    return json.loads(raw) if raw else None


class StatsStore(Erasure):
    """Per-day aggregates folded from the event stream, the per-visit records behind the CSV export,
    and (inherited) erasure: the retention sweep and forgetting one number."""

    # --- folding ---

    def fold(self, slug: str, zone: ZoneInfo, retention_days: int, *, batch: int = STATS_FOLD_BATCH,
             attempts: int = STATS_FOLD_ATTEMPTS) -> int:
        """Fold every event past the cursor; returns how many this call folded. Gives up quietly after
        ``attempts`` lost races: another folder is then doing the same work."""
        folded, lost = 0, 0
        cursor_key = keys.stats_cursor_key(slug)
        while lost < attempts:
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(cursor_key)
                    cursor = pipe.get(cursor_key) or "0-0"
                    entries = pipe.xrange(keys.events_key(slug), f"({cursor}", "+", count=batch)
                    if not entries:
                        pipe.unwatch()
                        return folded
                    result = stats.fold(
                        entries, zone,
                        finish_of=lambda pid: _json_or_none(pipe.get(keys.stats_finish_key(slug, pid))),
                        seen=lambda day, token: bool(pipe.sismember(keys.stats_seen_key(slug, day), token)),
                        party_info=lambda pid: pipe.hgetall(keys.party_key(slug, pid)),
                    )
                    updates = self._merge_visit_updates(pipe, slug, result.visit_updates)
                    pipe.multi()
                    self._write_fold(pipe, slug, zone, retention_days, result, updates)
                    pipe.set(cursor_key, result.last_id)
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
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for party_id, (day, fields) in updates.items():
            for back in range(4):
                visit_day = (date.fromisoformat(day) - timedelta(days=back)).isoformat()
                raw = pipe.hget(keys.visits_key(slug, visit_day), party_id)
                if raw:
                    merged[(visit_day, party_id)] = {**json.loads(raw), **fields}
                    break
        return merged

    @staticmethod
    def _write_fold(pipe: Any, slug: str, zone: ZoneInfo, retention_days: int, result: stats.Folded,
                    updates: dict[tuple[str, str], dict[str, Any]]) -> None:
        for day, counter in result.counters.items():
            for name, value in counter.items():
                if value:
                    pipe.hincrby(keys.stats_day_key(slug, day), name, value)
                    pipe.hincrby(keys.stats_month_key(slug, day[:7]), name, value)
        for day, tokens in result.seen.items():
            if tokens:
                pipe.sadd(keys.stats_seen_key(slug, day), *tokens)
                pipe.expire(keys.stats_seen_key(slug, day), STATS_SEEN_TTL_SECONDS)
        for party_id in result.undone:
            pipe.delete(keys.stats_finish_key(slug, party_id))
        for party_id, finish in result.finishes.items():
            pipe.set(keys.stats_finish_key(slug, party_id), json.dumps(finish), ex=STATS_FINISH_TTL_SECONDS)
        for day, party_id in result.removed_visits:
            pipe.hdel(keys.visits_key(slug, day), party_id)
        for (day, party_id), record in {**result.visits, **updates}.items():
            pipe.hset(keys.visits_key(slug, day), party_id, json.dumps(record, separators=(",", ":")))
            pipe.expireat(keys.visits_key(slug, day), int(stats.day_bounds(day, zone)[1] + retention_days * 86400))

    # --- reading ---

    def days(self, slug: str, days: Sequence[str]) -> list[tuple[str, Counter[str]]]:
        """Each day's counters (empty for a day without any), in the order asked."""
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(keys.stats_day_key(slug, day))
        return [(day, stats.parse_day(raw)) for day, raw in zip(days, pipe.execute())]

    def range(self, slug: str, days: Sequence[str], breakdown: bool
              ) -> tuple[list[tuple[str, Counter[str]]], Counter[str] | None]:
        """Each day's counters and the range's total. Broken down, every day is read whole; otherwise
        each day only its DAY_FIELDS, and the total comes from the months the range covers completely
        plus its other days: a year reads 12 rollups instead of 365 whole days."""
        if breakdown:
            return self.days(slug, days), None
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hmget(keys.stats_day_key(slug, day), stats.DAY_FIELDS)
        per_day = [(day, stats.parse_day({k: v for k, v in zip(stats.DAY_FIELDS, values) if v is not None}))
                   for day, values in zip(days, pipe.execute())]
        months, loose = stats.split_range(days)
        pipe = self.redis.pipeline(transaction=False)
        for month in months:
            pipe.hgetall(keys.stats_month_key(slug, month))
        for day in loose:
            pipe.hgetall(keys.stats_day_key(slug, day))
        return per_day, stats.merge(stats.parse_day(raw) for raw in pipe.execute())

    def visits(self, slug: str, days: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        """Visit records of those days (kept retention_days), by day, then by join time."""
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hvals(keys.visits_key(slug, day))
        out: list[tuple[str, dict[str, Any]]] = []
        for day, values in zip(days, pipe.execute()):
            records = sorted((json.loads(v) for v in values), key=lambda r: r.get("joined") or 0)
            out.extend((day, record) for record in records)
        return out
