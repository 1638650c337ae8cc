"""Text messages' statuses: how far along each is, so a status only ever moves forward.

Twilio's callbacks arrive late, twice or out of order; a message keeps the furthest status heard.
The store's status script and the owner's stats both rank statuses by this one table.
"""
from __future__ import annotations

from collections.abc import Mapping

STATUS_RANK: Mapping[str, int] = {
    "queued": 0, "accepted": 1, "scheduled": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "suppressed": 4, "read": 5, "received": 5,
}
"""Rank of each status a text can have; a status of lower or equal rank never replaces a higher one."""

SENT_RANK = STATUS_RANK["sent"]
"""From this rank on, the text reached the carrier."""

FAILED = frozenset({"failed", "undelivered"})
"""The statuses of a text that did not reach the guest: the party is flagged, the stats count it failed."""

UNKNOWN_RANK = -1
"""An unknown status moves nothing."""


def status_rank(status: str) -> int:
    return STATUS_RANK.get(status, UNKNOWN_RANK)
