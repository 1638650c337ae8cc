"""The only code that knows Redis: every key, every Lua script, every round trip.

    keys.py       every key builder and the key schema
    lua/          one file per script (a header lists its KEYS, ARGV and results), lua/includes/ the
                  functions several share
    scripts.py    loads and registers the scripts; turns their refusals into WaitlistErrors
    codec.py      hashes <-> Party, Restaurant, Settings, the estimator's Snapshot and its history
    parties.py    Store: restaurants and the list (joins, transitions, moves, undo, snapshots)
    messages.py   MessageStore: texts in and out, the opt-out list, the outbox; DevOutbox: the
                  development sender's texts and the development phone's replies
    stats.py      StatsStore: the owner's counters and visit records
    erasure.py    the retention sweep and forgetting a number (StatsStore inherits it)
    connections.py  the Redis clients

This module re-exports the names the rest of the code imports from ``waitlist.store``.
"""
from __future__ import annotations

from waitlist.domain.messages import STATUS_RANK
from waitlist.store import keys
from waitlist.store.codec import party_from_hash, settings_from_json
from waitlist.store.keys import *  # noqa: F403  (every key builder, as before the split)
from waitlist.store.messages import (
    MESSAGE_TTL_SECONDS,
    SID_TTL_SECONDS,
    DevOutbox,
    MessageStore,
    OutboundText,
    RecordedText,
)
from waitlist.store.parties import (
    FINISHED_KEEP_SECONDS,
    FINISHED_PARTY_TTL_SECONDS,
    RECENT_MAXLEN,
    TOKEN_TTL_SECONDS,
    HoldExtended,
    Joined,
    Moved,
    Store,
    TransitionResult,
    Undone,
)
from waitlist.store.scripts import EVENTS_MAXLEN, LINE_TTL_SECONDS
from waitlist.store.stats import StatsStore

__all__ = [
    "EVENTS_MAXLEN", "FINISHED_KEEP_SECONDS", "FINISHED_PARTY_TTL_SECONDS", "LINE_TTL_SECONDS", "MESSAGE_TTL_SECONDS",
    "RECENT_MAXLEN", "SID_TTL_SECONDS", "STATUS_RANK", "TOKEN_TTL_SECONDS", "DevOutbox", "HoldExtended", "Joined",
    "MessageStore",
    "Moved", "OutboundText", "RecordedText", "StatsStore", "Store", "TransitionResult", "Undone", "party_from_hash",
    "settings_from_json",
]
__all__ += keys.__all__
