"""What the estimator may look at, read from the store in one round trip."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Quoted = tuple[float, int, float, float, int, int, float, float, float, float, float]
"""A recent seating with the quote its party kept: (seated_at, size, joined_at, raw quote, parties ahead,
of its class, told minutes, told low, told high, stretch, lean); raw -1 where none was recorded, told -1
where not (entries written before parties kept what they were told)."""
HeadEntry = tuple[float, int, float, int, int, float]
"""A party at the head of the line: (joined_at, size, raw quote, parties ahead, of its class, told
minutes)."""


@dataclass(frozen=True)
class HourHistory:
    """One hour of the week over the restaurant's past weeks. The store halves old counts as new ones
    come in, so recent weeks weigh most (its codec owns how these numbers are stored)."""

    turns: tuple[tuple[float, float], ...] = ()
    """(turns counted, dining minutes summed) for parties of 1-2, 3-4, 5-6 and 7+, by the hour they were
    seated; empty when the hour holds none."""
    seatings: float = 0.0
    """Parties seated, by the hour they left the line."""
    drops: float = 0.0
    """Parties that cancelled or did not show, by the hour they left the line."""
    waited_minutes: float = 0.0
    """Minutes waited, summed over those seatings and drops."""

    def dining(self, bucket_index: int) -> tuple[float, float]:
        """(turns, dining minutes) of one size bucket (0 = parties of 1-2, ..., 3 = 7 and more)."""
        return self.turns[bucket_index] if bucket_index < len(self.turns) else (0.0, 0.0)


@dataclass(frozen=True)
class SnapshotTable:
    """A named table as the estimator sees it (waitlist.domain.tables owns the rules; this package
    imports nothing of ours, so the snapshot carries plain values)."""

    name: str
    seats: int
    joins_with: tuple[str, ...] = ()
    state: str = "free"
    """As stored: "free", "held" (a called party is coming), "occupied", "blocked", or "clearing": cleared
    at ``since``, which lasts the restaurant's settings.clearing_minutes and is free after that."""
    party_id: str = ""
    """The party holding or occupying it."""
    since: float | None = None
    """When the state began (None: free since before anything was recorded)."""

    def ready_at(self, clearing_minutes: float) -> float:
        """When a table being cleared is ready: ``clearing_minutes`` after its party left (the domain's
        live state says the same, waitlist.domain.tables.live_state)."""
        return (self.since or 0.0) + clearing_minutes * 60


@dataclass(frozen=True)
class Snapshot:
    """What the estimator may look at: the line as it stands plus bounded recent history."""

    waiting_sizes: list[int] = field(default_factory=list)
    notified_sizes: list[int] = field(default_factory=list)
    seatings: list[tuple[float, int, float]] = field(default_factory=list)  # (seated_at, size, joined_at)
    turns: list[tuple[float, float, int]] = field(default_factory=list)  # (seated_at, completed_at, size)
    drops: list[tuple[float, int, float, str, str]] = field(default_factory=list)
    """(left_at, size, joined_at, from status, to status: cancelled or no_show; '' when not recorded)."""
    history: Mapping[int, HourHistory] = field(default_factory=dict)
    """The restaurant's hours of the week (0-167, from Thursday 00:00 UTC: epoch hours mod 168) that
    hold any history."""
    quoted: list[Quoted] = field(default_factory=list)
    """The same recent seatings, newest first, each with what its party was quoted and told, for the
    estimator's self-calibration (waitlist.estimate.calibration)."""
    table_gaps: tuple[tuple[int, float], ...] = ()
    """(seats, minutes) of the recent seatings at named tables, newest first: from the table's last party
    leaving to this one sitting down, where the party was waiting as it left (its turnover gap:
    clearing and walking up, measured at the very table)."""
    head: tuple[HeadEntry, ...] = ()
    """The first parties in line (calibration.OVERDUE_HEAD): those already waiting past their quote tell
    the calibration that the evening has turned before any of them is seated."""
    tables: tuple[SnapshotTable, ...] = ()
    """The named tables with their live states, in the floor's order; () while the restaurant describes
    its tables by count (settings.tables), in which case the estimator works as before."""
    reservations: tuple[tuple[float, int], ...] = ()
    """(start, size) of bookings still to arrive, from a quarter hour ago to two hours on: each will take
    a table of its class when it comes (waitlist.services.reservations checks them in at the head of it)."""

    def state(self) -> tuple[object, ...]:
        """What identifies this state of the restaurant for an estimate: the line, the newest entry and
        length of each recent list (every seating, turn and drop-out appends one, and the hour-of-week
        history changes only with them), the tables, the bookings due and the head of the line."""
        return (tuple(self.waiting_sizes), tuple(self.notified_sizes),
                self.quoted[0] if self.quoted else None, len(self.quoted),
                self.turns[0] if self.turns else None, len(self.turns),
                self.drops[0] if self.drops else None, len(self.drops),
                self.tables, self.reservations, self.head)
