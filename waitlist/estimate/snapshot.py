"""What the estimator may look at, read from the store in one round trip."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Snapshot:
    """What the estimator may look at: the line as it stands plus bounded recent history."""

    waiting_sizes: list[int] = field(default_factory=list)
    notified_sizes: list[int] = field(default_factory=list)
    seatings: list[tuple[float, int, float]] = field(default_factory=list)  # (seated_at, size, joined_at)
    turns: list[tuple[float, float, int]] = field(default_factory=list)  # (seated_at, completed_at, size)
    drops: list[tuple[float, int, float, str, str]] = field(default_factory=list)
    """(left_at, size, joined_at, from status, to status: cancelled or no_show; '' when not recorded)."""
    history: Mapping[str, str] = field(default_factory=dict)
    """Raw ``h:<hour of week>`` fields of the store's history hash (see waitlist.store _HISTORY)."""
