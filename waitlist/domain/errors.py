"""The one exception family of the waitlist; the HTTP layer maps each to a status code."""
from __future__ import annotations

from typing import Any


class WaitlistError(Exception):
    """Base of every error the waitlist reports to a caller."""

    code = "waitlist_error"
    status = 400
    retry_after: int | None = None
    """Seconds a client should wait before trying again (sent as Retry-After), where that helps."""

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.extra = extra


class InvalidInput(WaitlistError):
    code = "invalid_input"
    status = 400


class Unauthorized(WaitlistError):
    code = "unauthorized"
    status = 401


class Forbidden(WaitlistError):
    code = "forbidden"
    status = 403


class RestaurantNotFound(WaitlistError):
    code = "restaurant_not_found"
    status = 404


class PartyNotFound(WaitlistError):
    code = "party_not_found"
    status = 404


class SlugTaken(WaitlistError):
    code = "slug_taken"
    status = 409


class AlreadyWaiting(WaitlistError):
    """The phone already has an active party here; ``extra['party_id']`` names it."""

    code = "already_waiting"
    status = 409


class PartyIdTaken(InvalidInput):
    """A new party's random id collided with an existing party's (the caller may simply retry)."""


class PhoneTaken(AlreadyWaiting):
    """An undo found the party's phone back on the list with another party."""


class InvalidTransition(WaitlistError):
    code = "invalid_transition"
    status = 409


class StaleHold(InvalidTransition):
    """A hold timer fired for a hold that was since renewed or extended."""


class UndoTooLate(InvalidTransition):
    """The undo window passed."""


class WaitlistClosed(WaitlistError):
    """Remote joins are off, paused or outside the joining hours."""

    code = "waitlist_closed"
    status = 409


class LimitReached(WaitlistError):
    """An abuse cap (remote parties, joins per phone per day) refuses this join."""

    code = "limit_reached"
    status = 429
    retry_after = 300


class RemoteFull(LimitReached):
    """The list holds as many remote parties as the restaurant takes."""


class DailyCapReached(LimitReached):
    """This number joined from afar as many times today as the restaurant allows."""


class JoinCodeLimit(LimitReached):
    """An address, or the restaurant, holds as many open join codes as allowed; ``retry_after`` says
    when the first of them lapses."""

    def __init__(self, message: str, *, retry_after: int, **extra: Any):
        super().__init__(message, **extra)
        self.retry_after = retry_after


class JoinCodeUnknown(WaitlistError):
    """No join code (or join page) by that name: mistyped, or forgotten an hour after it was made."""

    code = "join_code_unknown"
    status = 404


class JoinCodeExpired(WaitlistError):
    """The join code was not texted in time."""

    code = "join_code_expired"
    status = 410


class JoinCodeUsed(WaitlistError):
    """Another number already joined with this code; ``extra['digest']`` is that number's keyed hash."""

    code = "join_code_used"
    status = 409


class StoreUnavailable(WaitlistError):
    """Redis did not answer: the request may be retried, nothing was half-written."""

    code = "store_unavailable"
    status = 503
    retry_after = 1


class TableNotFound(WaitlistError):
    """No table by that name on the restaurant's floor."""

    code = "table_not_found"
    status = 404


class TableTaken(WaitlistError):
    """The table is held for or occupied by another party (``extra``: table, party_id); or, for a floor
    change, it is held or occupied and cannot be removed or renamed yet."""

    code = "table_taken"
    status = 409


class TableBlocked(TableTaken):
    """The host blocked the table: unblock it first."""

    code = "table_blocked"


class TablesNotJoinable(WaitlistError):
    """The tables named for one party cannot be pushed together (joins_with does not connect them)."""

    code = "tables_not_joinable"
    status = 409


class PartyTooBig(WaitlistError):
    """The tables named for a party seat fewer than the party."""

    code = "party_too_big"
    status = 409
