"""Every Redis key the waitlist uses, built here and nowhere else.

Key schema. ``{slug}`` is a Redis Cluster hash tag: one restaurant's keys share one slot, so every
script stays single-slot. Global keys (``wl:<kind>:...`` without a tag) are only ever touched one at a
time, never inside a script with tagged keys.

    wl:{slug}:restaurant        hash   restaurant fields, settings (JSON), api_key_hash, code
    wl:{slug}:token:<token>     string id of the party behind a guest status link (set by the join)
    wl:{slug}:party:<id>        hash   one party; expires some time after it leaves the list
    wl:{slug}:waiting           zset   waiting party ids, score = queue order
    wl:{slug}:notified          zset   notified party ids, score = first notified time
    wl:{slug}:pending           zset   remote joins awaiting the guest's confirmation, score = expiry
    wl:{slug}:remote            set    ids of remote parties on the list (capped by remote_max_active)
    wl:{slug}:joins:<digest>:<day> string joins by one number that day (daily cap, confirmed joins only),
                                       expires in 2 days
    wl:{slug}:jcode:<code>      hash   a join code from the join page (the party's fields, its ticket, state
                                       open | joined, the party and number that joined); expires an hour on
    wl:{slug}:jticket:<ticket>  string the join code behind the join page's secret ticket (polled by the page)
    wl:{slug}:jcodes            zset   open join codes, score = expiry (the restaurant's cap)
    wl:{slug}:jaddr:<digest>    zset   open join codes made from one address (keyed hash), score = expiry
    wl:{slug}:phones            hash   E.164 phone -> id of its party on the list
    wl:{slug}:sizes             hash   party id -> party size, for every party on the list (pending,
                                       waiting, notified): one HGETALL when the line key below is missing
    wl:{slug}:line              string the sizes of the waiting and notified parties in order, then their
                                       ids, fixed width, as the snapshot reads them (see line_key)
    wl:{slug}:tables            hash   table name -> its stored state "state|party|since" (held, occupied,
                                       cleared, blocked, free); the floor itself is the restaurant's "floor"
    wl:{slug}:finished          zset   ids of parties that left the list, score = time (trimmed to 36 h)
    wl:{slug}:events            stream audit trail of every change (trimmed to ~10,000 entries)
    wl:{slug}:seq               string join counter giving queue order
    wl:{slug}:recent:<kind>     list   last 200 seatings / turns / drops, for the estimator
    wl:{slug}:history           hash   the estimator's hour-of-week history: at most 168 "h:<hour>"
                                       fields of 11 numbers each (format: waitlist.store.codec)
    wl:{slug}:msg:<id>          hash   one text message, in or out
    wl:{slug}:conv:<party>      list   message ids of a party's conversation
    wl:{slug}:optout            set    keyed hashes of numbers that texted STOP here
    wl:{slug}:outbox            zset   recorded texts not yet handed to RQ, score = when a relay may take
                                       them (recorded time, then the end of a relay's lease)
    wl:{slug}:unsent            zset   relayed texts with neither a SID nor a final status yet, score = when
                                       recorded, then when the lost-text sweep last looked at them (it looks
                                       again once that is older than its bound): finds lost send jobs
    wl:{slug}:inbound:<sid>     string Twilio MessageSid already handled (expires after a day)
    wl:{slug}:inrate:<digest>   string texts received from one number in the current window (inbound cap)
    wl:{slug}:awaitfb:<digest>  string id of the party whose feedback this number's next digit answers (1 day)
    wl:{slug}:session:<id>      string a signed-in staff session (host stand, owner's view); expires after
                                       SESSION_HOURS without a request, deleted at sign-out
    wl:{slug}:members           hash   account id -> its role here (owner, manager, host, viewer)
    wl:{slug}:apikeys           hash   sha256 of an integration's API key -> JSON id, name, scope, created
    wl:{slug}:once:<what>       string a once-per-window latch: "contacted:<digest>" (the restaurant's
                                       first text to a number, 180 days), "notonlist:<digest>" (one "not on
                                       the list" reply an hour), "hostwillsee:<party>" (inbound replies)
    wl:{slug}:stats:cursor      string id of the last event folded into the stats (the fold's version)
    wl:{slug}:stats:day:<date>  hash   one service day's anonymous counters and wait histograms (kept)
    wl:{slug}:stats:month:<YYYY-MM> hash the same counters summed over a calendar month (long ranges)
    wl:{slug}:stats:seen:<date> set    "t:<party>"/"r:<party>": texted / replied parties counted that day
    wl:{slug}:stats:fin:<party> string a finish's counter increments, so an undo can take them back (1 day)
    wl:{slug}:visits:<date>     hash   party id -> visit record (JSON, name and phone): the CSV export;
                                       expires retention_days after the day
    wl:{slug}:resv:<id>         hash   one reservation (waitlist.store.reservations); expires a week after its time
    wl:{slug}:resv:active       zset   "id|size|end" of reservations holding a table, score = start (pacing)
    wl:{slug}:resv:all          zset   every reservation id, score = start (a day's list)
    wl:{slug}:resv:due          zset   "id|size" of bookings still to arrive (booked, confirmed), score = start:
                                       the snapshot reads the next two hours for walk-in quotes
    wl:{slug}:resv:version      string bumped by every booking change: the booking script's guard
    wl:{slug}:resv:rules        string the reservation settings (JSON)
    wl:{slug}:rtoken:<token>    string id of the reservation behind a manage link /r/<token>
    wl:{slug}:resv:phone:<digest> zset the reservations of one number (keyed hash), score = start: a reply's booking
    wl:{slug}:hooks             hash   webhook endpoint id -> JSON (url, events, secret, disabled, failing_since)
    wl:{slug}:hooks:cursor      string id of the last event of the events stream the webhook relay queued
    wl:{slug}:hooks:lease       string the webhook relay holding this restaurant's cursor (expires in 30 s)
    wl:{slug}:hooks:log         list   the last 100 webhook delivery tries (JSON), newest first
    wl:hooked                   set    slugs with at least one webhook endpoint (the relay's round)
    wl:restaurants              set    every slug (admin listing)
    wl:apikey:<sha256>          string slug owning that key (tells 403 from 401)
    wl:account:<id>             hash   a person: email, name, argon2 password hash, failed sign-ins
    wl:account:<id>:places      set    slugs of the restaurants the person belongs to
    wl:account:<id>:sessions    set    ids of the person's open sessions (sign out everywhere)
    wl:email:<email>            string id of the account with that (lower-case) email
    wl:psession:<id>            string account id of a person's signed-in session (SESSION_HOURS, sliding)
    wl:invite:<sha256>          string JSON of an invitation (email, slug, role, by); single use, expires
    wl:pwreset:<sha256>         string account id a password-reset link is for; single use, expires
    wl:smsfrom:<e164>           string slug texting from that number (routes inbound texts)
    wl:code:<code>              string slug of the restaurant whose guest links start with that code
    wl:token:<token>            string "<slug>/<party id>": links given before they carried a code (read only)
    wl:sid:<sid>                string "<slug>/<message id>": the message Twilio calls back about (8 days)
    wl:dev:outbox               list   development sender's texts (waitlist.texting.sms.OutboxSender)
    wl:dev:phone-replies        list   the development phone's replies (waitlist.web.dev)
    wl:ratelimit...             -      flask-limiter's counters, under this prefix (waitlist.web.limits)

Channel (not a key): ``wl:outbox``. Scripts that put a text in an outbox PUBLISH the restaurant's slug
on it, which wakes the workers' relays (workers.relay).

A guest link's token starts with its restaurant's code, so the link's key lives in the restaurant's
slot and the join script writes it with the party.

One exception to "a script gets every key in KEYS": a script that reaches parties whose ids it only
learns inside (the list scripts, the snapshot, the almost-ready promotion after a move or a transition)
gets the party key prefix (``party_prefix``) as a KEYS entry and appends the id. The prefix carries the
restaurant's hash tag, so every key built from it is in the script's slot.
"""
from __future__ import annotations

__all__ = [
    "OUTBOX_CHANNEL",
    "tag",
    "restaurant_key",
    "party_prefix",
    "party_key",
    "waiting_key",
    "notified_key",
    "pending_key",
    "remote_key",
    "phones_key",
    "sizes_key",
    "line_key",
    "finished_key",
    "table_states_key",
    "events_key",
    "seq_key",
    "recent_key",
    "history_key",
    "token_key",
    "joins_key",
    "join_code_key",
    "join_ticket_key",
    "join_codes_key",
    "join_codes_by_address_key",
    "await_feedback_key",
    "staff_session_key",
    "members_key",
    "api_keys_key",
    "message_prefix",
    "message_key",
    "conversation_key",
    "conversation_pattern",
    "optout_key",
    "outbox_key",
    "unsent_key",
    "inbound_seen_key",
    "inbound_rate_key",
    "once_key",
    "contacted_key",
    "sid_key",
    "stats_cursor_key",
    "stats_day_key",
    "stats_seen_key",
    "stats_finish_key",
    "stats_month_key",
    "visits_key",
    "latch_patterns",
    "reservation_key",
    "reservations_active_key",
    "reservations_by_time_key",
    "reservations_due_key",
    "reservations_version_key",
    "reservation_rules_key",
    "reservation_token_key",
    "reservations_by_phone_key",
    "hooks_key",
    "hooks_cursor_key",
    "hooks_lease_key",
    "hooks_log_key",
    "hooked_key",
    "restaurants_key",
    "apikey_key",
    "account_key",
    "account_places_key",
    "account_sessions_key",
    "email_key",
    "person_session_key",
    "invite_key",
    "password_reset_key",
    "sms_from_key",
    "code_key",
    "legacy_token_key",
    "dev_outbox_key",
    "dev_replies_key",
    "rate_limit_prefix",
]

OUTBOX_CHANNEL = "wl:outbox"
"""Pub/sub channel told the slug of every restaurant whose outbox gets a text."""


def tag(slug: str) -> str:
    return f"wl:{{{slug}}}"


# --- a restaurant and its line ---------------------------------------------------------------------

def restaurant_key(slug: str) -> str:
    return f"{tag(slug)}:restaurant"


def party_prefix(slug: str) -> str:
    """What a party's key starts with; scripts given it append ids they read (see the module docstring)."""
    return f"{tag(slug)}:party:"


def party_key(slug: str, party_id: str) -> str:
    return party_prefix(slug) + party_id


def waiting_key(slug: str) -> str:
    return f"{tag(slug)}:waiting"


def notified_key(slug: str) -> str:
    return f"{tag(slug)}:notified"


def pending_key(slug: str) -> str:
    return f"{tag(slug)}:pending"


def remote_key(slug: str) -> str:
    return f"{tag(slug)}:remote"


def phones_key(slug: str) -> str:
    return f"{tag(slug)}:phones"


def sizes_key(slug: str) -> str:
    return f"{tag(slug)}:sizes"


def line_key(slug: str) -> str:
    """The sizes of the waiting and the notified parties in queue order, then their ids, each entry of
    a fixed width, as the snapshot reads them: a cache derived from the waiting and notified sets and
    the sizes hash. Every script that changes the line takes it as KEYS[1] (and the sizes hash as
    KEYS[2]) and splices the entry it changed (lua/includes/line.lua: line_change, line_placed), so no
    script works the whole line out after a change (3 ms at 3,000 parties; issue 26). It is kept
    because reading one string saved measurable Redis CPU per add over working the sizes out each time."""
    return f"{tag(slug)}:line"


def finished_key(slug: str) -> str:
    return f"{tag(slug)}:finished"


def table_states_key(slug: str) -> str:
    """Each named table's stored state (waitlist.store.tables); a table without a field is free."""
    return f"{tag(slug)}:tables"


def events_key(slug: str) -> str:
    return f"{tag(slug)}:events"


def seq_key(slug: str) -> str:
    return f"{tag(slug)}:seq"


def recent_key(slug: str, kind: str) -> str:
    """``kind``: "seatings", "turns" or "drops"."""
    return f"{tag(slug)}:recent:{kind}"


def history_key(slug: str) -> str:
    return f"{tag(slug)}:history"


def token_key(slug: str, token: str) -> str:
    return f"{tag(slug)}:token:{token}"


def joins_key(slug: str, digest: str, day: str) -> str:
    return f"{tag(slug)}:joins:{digest}:{day}"


def join_code_key(slug: str, code: str) -> str:
    """A join code from the join page, until the guest texts it (waitlist.services.remote_join)."""
    return f"{tag(slug)}:jcode:{code}"


def join_ticket_key(slug: str, ticket: str) -> str:
    """The join page's own secret for its code: the code is short enough to guess, the ticket is not."""
    return f"{tag(slug)}:jticket:{ticket}"


def join_codes_key(slug: str) -> str:
    return f"{tag(slug)}:jcodes"


def join_codes_by_address_key(slug: str, digest: str) -> str:
    return f"{tag(slug)}:jaddr:{digest}"


def await_feedback_key(slug: str, digest: str) -> str:
    return f"{tag(slug)}:awaitfb:{digest}"


def staff_session_key(slug: str, session_id: str) -> str:
    """A staff session the server knows: its cookie alone no longer signs a tablet in."""
    return f"{tag(slug)}:session:{session_id}"


def members_key(slug: str) -> str:
    """The people of a restaurant and their roles, in its slot (waitlist.store.accounts)."""
    return f"{tag(slug)}:members"


def api_keys_key(slug: str) -> str:
    """The restaurant's named, scoped integration keys (its own key stays on the restaurant hash)."""
    return f"{tag(slug)}:apikeys"


# --- texts ----------------------------------------------------------------------------------------

def message_prefix(slug: str) -> str:
    return f"{tag(slug)}:msg:"


def message_key(slug: str, message_id: str) -> str:
    return message_prefix(slug) + message_id


def conversation_key(slug: str, party_id: str) -> str:
    return f"{tag(slug)}:conv:{party_id}"


def conversation_pattern(slug: str) -> str:
    """SCAN pattern of every conversation list of a restaurant."""
    return conversation_key(slug, "*")


def optout_key(slug: str) -> str:
    return f"{tag(slug)}:optout"


def outbox_key(slug: str) -> str:
    return f"{tag(slug)}:outbox"


def unsent_key(slug: str) -> str:
    """Relayed texts not yet taken by Twilio nor given up (workers.relay's lost-text sweep)."""
    return f"{tag(slug)}:unsent"


def inbound_seen_key(slug: str, message_sid: str) -> str:
    return f"{tag(slug)}:inbound:{message_sid}"


def inbound_rate_key(slug: str, digest: str) -> str:
    return f"{tag(slug)}:inrate:{digest}"


def once_key(slug: str, what: str) -> str:
    """A once-per-window latch; ``what`` names it and usually ends in a number's digest."""
    return f"{tag(slug)}:once:{what}"


def contacted_key(slug: str, digest: str) -> str:
    """The latch of the restaurant's first text to a number (that text says how to opt out)."""
    return once_key(slug, f"contacted:{digest}")


def sid_key(sid: str) -> str:
    return f"wl:sid:{sid}"


# --- the owner's stats and visit records ---------------------------------------------------------

def stats_cursor_key(slug: str) -> str:
    return f"{tag(slug)}:stats:cursor"


def stats_day_key(slug: str, day: str) -> str:
    return f"{tag(slug)}:stats:day:{day}"


def stats_seen_key(slug: str, day: str) -> str:
    return f"{tag(slug)}:stats:seen:{day}"


def stats_finish_key(slug: str, party_id: str) -> str:
    return f"{tag(slug)}:stats:fin:{party_id}"


def stats_month_key(slug: str, month: str) -> str:
    return f"{tag(slug)}:stats:month:{month}"


def visits_key(slug: str, day: str) -> str:
    return f"{tag(slug)}:visits:{day}"


def latch_patterns(slug: str, digest: str) -> list[str]:
    """SCAN patterns of every latch and counter keyed by one number (forgetting the number)."""
    return [once_key(slug, f"*{digest}*"), inbound_rate_key(slug, digest), await_feedback_key(slug, digest),
            joins_key(slug, digest, "*")]


# --- reservations (waitlist.store.reservations) -------------------------------------------------------

def reservation_key(slug: str, reservation_id: str) -> str:
    return f"{tag(slug)}:resv:{reservation_id}"


def reservations_active_key(slug: str) -> str:
    """What pacing reads in one ZRANGEBYSCORE: each member says its reservation's size and hold end."""
    return f"{tag(slug)}:resv:active"


def reservations_by_time_key(slug: str) -> str:
    return f"{tag(slug)}:resv:all"


def reservations_due_key(slug: str) -> str:
    """Bookings not yet arrived: the estimator counts the tables they will take (lua/includes/snapshot.lua)."""
    return f"{tag(slug)}:resv:due"


def reservations_version_key(slug: str) -> str:
    return f"{tag(slug)}:resv:version"


def reservation_rules_key(slug: str) -> str:
    return f"{tag(slug)}:resv:rules"


def reservations_by_phone_key(slug: str, digest: str) -> str:
    """Which booking a guest's "C" or "9" answers: the number's next one."""
    return f"{tag(slug)}:resv:phone:{digest}"


def reservation_token_key(slug: str, token: str) -> str:
    """A manage link's token starts with the restaurant's code, like a guest link: its key is in the slot."""
    return f"{tag(slug)}:rtoken:{token}"


# --- outbound webhooks (waitlist.store.webhooks) ----------------------------------------------------

def hooks_key(slug: str) -> str:
    return f"{tag(slug)}:hooks"


def hooks_cursor_key(slug: str) -> str:
    """The webhook relay's place in the restaurant's events stream: what it has queued."""
    return f"{tag(slug)}:hooks:cursor"


def hooks_lease_key(slug: str) -> str:
    return f"{tag(slug)}:hooks:lease"


def hooks_log_key(slug: str) -> str:
    return f"{tag(slug)}:hooks:log"


def hooked_key() -> str:
    """Restaurants with webhook endpoints: the relay follows only their streams."""
    return "wl:hooked"


# --- global keys ------------------------------------------------------------------------------------

def restaurants_key() -> str:
    return "wl:restaurants"


def apikey_key(key_hash: str) -> str:
    return f"wl:apikey:{key_hash}"


def account_key(account_id: str) -> str:
    """A person is global: one sign-in for every restaurant they belong to."""
    return f"wl:account:{account_id}"


def account_places_key(account_id: str) -> str:
    return f"wl:account:{account_id}:places"


def account_sessions_key(account_id: str) -> str:
    return f"wl:account:{account_id}:sessions"


def email_key(email: str) -> str:
    return f"wl:email:{email}"


def person_session_key(session_id: str) -> str:
    return f"wl:psession:{session_id}"


def invite_key(token_hash: str) -> str:
    return f"wl:invite:{token_hash}"


def password_reset_key(token_hash: str) -> str:
    return f"wl:pwreset:{token_hash}"


def sms_from_key(e164: str) -> str:
    return f"wl:smsfrom:{e164}"


def code_key(code: str) -> str:
    return f"wl:code:{code}"


def legacy_token_key(token: str) -> str:
    """Where links given before tokens carried their restaurant's code point (they expire in 3 days)."""
    return f"wl:token:{token}"


def dev_outbox_key() -> str:
    """The development sender's list of texts (no Twilio; DevOutbox): /dev/outbox and /dev/phone read it."""
    return "wl:dev:outbox"


def dev_replies_key() -> str:
    """The development phone's replies (DevOutbox), so its chats show both sides."""
    return "wl:dev:phone-replies"


def rate_limit_prefix() -> str:
    """What flask-limiter's counters start with (the app factory hands it to waitlist.web.limits)."""
    return "wl:ratelimit"
