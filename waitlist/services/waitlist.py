"""Use cases: what hosts, guests, timers and admins can do. Plain Python over the store.

``Waitlist`` is the one object the web layer and the workers hold: it takes plain values, asks the
store for one atomic change, and then decides which texts follow from it. Nothing here knows about
HTTP. Its parts live in several modules, each building on the one before:

    access.py     restaurants, API keys and link codes, settings, the reads every use case starts from
    texts_out.py  recording texts (the outbox), flags, the conversation, feedback
    parties.py    joins, the host's actions on the list, the guest's view and replies
    remote_join.py  the join page's codes, confirmed by the guest's own text
    tables.py     named tables: the floor, live states, who a table suits, block/unblock/clear
"""
from __future__ import annotations

from waitlist.services.access import (  # noqa: F401  (importable from here, as before the split)
    CODE_ALPHABET,
    hash_api_key,
    new_api_key,
    new_code,
    new_id,
    new_token,
)
from waitlist.services.parties import (  # noqa: F401
    ACTIVE_STATUSES,
    CONFIRM_WINDOW_SECONDS,
    HOST_ACTIONS,
    MAX_LATE_SECONDS,
    UNDO_WINDOW_SECONDS,
    GuestView,
    Parties,
)
from waitlist.services.remote_join import JoinState, RemoteJoins  # noqa: F401
from waitlist.services.tables import TableChoice, Tables  # noqa: F401
from waitlist.services.texts_out import CONTACTED_TTL_SECONDS, FEEDBACK_REPLY_SECONDS  # noqa: F401


class Waitlist(Tables, RemoteJoins):
    """Every use case of the waitlist: restaurants and access, texts out, parties, remote joins, tables."""
