"""The group view: an owner's restaurants side by side over the same days (the owner's stats,
waitlist.services.owner_stats, one report per restaurant)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from waitlist.services.owner_stats import OwnerStats
from waitlist.web.http import get_waitlist


def group_rows(slugs: list[str], args: Mapping[str, str]) -> list[dict[str, Any]]:
    """One row per restaurant: joined, seated, median wait, quote accuracy (share within 5 minutes),
    no-shows, over each restaurant's own last 14 service days unless ``from``/``to`` are given."""
    stats: OwnerStats = current_app.extensions["owner_stats"]
    rows = []
    for slug in slugs:
        restaurant = get_waitlist().restaurant(slug)
        first, last = stats.date_range(restaurant, args.get("from") or None, args.get("to") or None)
        total = stats.report(restaurant, first, last, breakdown=False)["total"]
        parties, wait, quote = total["parties"], total["wait"]["overall"], total["quote"]
        rows.append({
            "slug": slug, "name": restaurant.name, "from": first, "to": last,
            "joined": parties["joined"], "seated": parties["seated"], "no_shows": parties["no_shows"],
            "median_wait": wait.get("median") if wait.get("n") else None,
            "quote_within_5": quote.get("within_5_min") if quote.get("n") else None,
        })
    return rows
