"""The owner's numbers as use cases: stats over a range of days, the visit export, the retention
sweep and forgetting a guest, over the waitlist's stores. The rules (the fold, the summaries) are
waitlist.domain.stats."""
from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from waitlist.domain.errors import InvalidInput, InvalidTransition, PartyNotFound
from waitlist.domain.model import Restaurant
from waitlist.domain.phones import mask_phone, normalize_phone
from waitlist.domain.stats import days_between, report, service_day, wants_breakdown
from waitlist.domain.table_stats import table_report
from waitlist.domain.tables import floor_of
from waitlist.services.waitlist import Waitlist
from waitlist.store import StatsStore

log = logging.getLogger(__name__)

MAX_RANGE_DAYS = 400
DEFAULT_RANGE_DAYS = 14


class OwnerStats:
    """Stats, the visit export, the retention sweep and forgetting a guest, over the waitlist's stores."""

    def __init__(self, waitlist: Waitlist, store: StatsStore):
        self.waitlist = waitlist
        self.store = store

    def zone(self, restaurant: Restaurant) -> ZoneInfo:
        return ZoneInfo(restaurant.timezone)

    def refresh(self, restaurant: Restaurant) -> int:
        """Fold what happened since the last fold; returns the number of events folded."""
        return self.store.fold(restaurant.slug, self.zone(restaurant), restaurant.settings.retention_days)

    def today(self, restaurant: Restaurant) -> str:
        return service_day(self.waitlist.clock(), self.zone(restaurant))

    def date_range(self, restaurant: Restaurant, first: str | None, last: str | None) -> tuple[str, str]:
        """Validated (from, to) service days; by default the last two weeks up to today."""
        try:
            end = date.fromisoformat(last) if last else date.fromisoformat(self.today(restaurant))
            start = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        except ValueError:
            raise InvalidInput("dates are YYYY-MM-DD", fields={"from": ["use YYYY-MM-DD"], "to": ["use YYYY-MM-DD"]}
                               ) from None
        if start > end:
            raise InvalidInput("from is after to", fields={"from": ["must not be after to"]})
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise InvalidInput("that range is too long", fields={"from": [f"at most {MAX_RANGE_DAYS} days"]})
        return start.isoformat(), end.isoformat()

    def report(self, restaurant: Restaurant, first: str, last: str, breakdown: bool | None = None) -> dict[str, Any]:
        self.refresh(restaurant)
        per_day = wants_breakdown(len(days_between(first, last)), breakdown)
        days, total = self.store.range(restaurant.slug, days_between(first, last), per_day)
        return {"restaurant": restaurant.slug, "timezone": restaurant.timezone, "from": first, "to": last,
                **report(days, per_day, total)}

    def tables(self, restaurant: Restaurant, first: str, last: str) -> dict[str, Any]:
        """Turn times by table size and by hour, and occupancy by hour (named tables), over the days
        ``first``..``last`` (waitlist.domain.table_stats)."""
        self.refresh(restaurant)
        days = days_between(first, last)
        per_day, total = self.store.range(restaurant.slug, days, False)
        seats = sum(table.seats for table in floor_of(restaurant))
        used = sum(1 for _day, counters in per_day if counters.get("tturns"))  # a closed day dilutes nothing
        return {"restaurant": restaurant.slug, "timezone": restaurant.timezone, "from": first, "to": last,
                "floor_seats": seats, "days_with_turns": used,
                **table_report(total or {}, floor_seats=seats, days=used or len(days))}

    def visits(self, restaurant: Restaurant, first: str, last: str) -> list[tuple[str, dict[str, Any]]]:
        self.refresh(restaurant)
        return self.store.visits(restaurant.slug, days_between(first, last))

    def sweep(self, restaurant: Restaurant) -> dict[str, int]:
        """Erase what is older than retention_days: visit records, texts, parties, comments in the stream.
        Folds first, so the anonymous counters keep everything the erased records held."""
        self.refresh(restaurant)
        now = self.waitlist.clock()
        keep = restaurant.settings.retention_days
        cutoff = now - keep * 86400
        slug = restaurant.slug
        result = {
            "visit_days": self.store.expire_visits(slug, self.zone(restaurant), keep, now),
            "messages": self.store.erase_old_messages(slug, cutoff),
            "parties": self.store.erase_old_parties(slug, cutoff),
            "comments": self.store.erase_old_comments(slug, cutoff),
        }
        log.info("retention sweep slug=%s days=%d erased=%s", slug, keep, result)
        return result

    def fold_all(self) -> int:
        """Fold every restaurant's new events (the periodic job, before the stream is trimmed)."""
        return sum(self.refresh(restaurant) for restaurant in self.waitlist.all_restaurants())

    def sweep_all(self) -> int:
        """The retention sweep over every restaurant; returns how many records it erased."""
        return sum(sum(self.sweep(restaurant).values()) for restaurant in self.waitlist.all_restaurants())

    def forget(self, raw_phone: str) -> dict[str, Any]:
        """Erase one guest's data in every restaurant: a party still on a list is cancelled first (no
        text is sent), so the live list stays consistent. Counters stay: they name nobody."""
        waitlist = self.waitlist
        phone = normalize_phone(raw_phone, waitlist.config.default_region)
        digest = waitlist.digest(phone)
        erased: dict[str, dict[str, int]] = {}
        for restaurant in waitlist.all_restaurants():
            slug = restaurant.slug
            active = waitlist.store.active_party_for_phone(slug, phone)
            if active:
                try:
                    waitlist.cancel(restaurant, active, actor="privacy", confirm=False)
                except (PartyNotFound, InvalidTransition):
                    pass
            self.refresh(restaurant)
            result = self.store.forget_phone(slug, phone, digest, self.store.parties_with_phone(slug, phone))
            if any(result.values()):
                erased[slug] = result
        log.info("guest forgotten phone=%s restaurants=%d", mask_phone(phone), len(erased))
        return {"phone": mask_phone(phone), "erased": erased}
