"""The owner's stats, kept importable by this name: the rules are waitlist.domain.stats, the use
cases waitlist.services.owner_stats."""
from __future__ import annotations

from waitlist.domain.stats import *  # noqa: F403
from waitlist.services.owner_stats import DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, OwnerStats  # noqa: F401
