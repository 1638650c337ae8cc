"""The parties' use cases: joining, the host's actions on the list, the guest's view and replies.

Each asks the store for one atomic change (which raises the WaitlistError family when the change is
refused) and then decides which texts follow from it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from waitlist.domain.errors import (
    InvalidInput,
    InvalidTransition,
    PartyNotFound,
    RestaurantNotFound,
    WaitlistClosed,
)
from waitlist.domain.model import (
    ACTIVE,
    QUOTE_BY_HOST,
    QUOTE_OVERRIDABLE,
    UNDO_NOTIFY,
    Party,
    Restaurant,
    Status,
    allowed_from,
    host_quote,
    quote_range_text,
    remaining_host_quote,
)
from waitlist.domain.phones import mask_phone, normalize_phone
from waitlist.domain.tables import table_counts, table_joins
from waitlist.estimate.estimator import Estimate, Snapshot, estimate_wait, settled
from waitlist.services.access import log, new_id, new_token
from waitlist.services.texts_out import TextsOut
from waitlist.store import OutboundText, codec, listing
from waitlist.store.join_codes import JoinCodeClaim
from waitlist.texting import templates, texts

MAX_LATE_SECONDS = 30 * 60
UNDO_WINDOW_SECONDS = 60
CONFIRM_WINDOW_SECONDS = 5 * 60
ACTIVE_STATUSES = tuple(sorted(ACTIVE))
"""The statuses a party holds a place in line in (waitlist.domain.model.ACTIVE)."""
HOST_ACTIONS = ("notify", "seat", "complete", "cancel", "no_show", "check_in", "undo")
"""The host's one-tap actions on a party (``Parties.host_action``), each the use case of that name: the
API offers them all, the host stand all but ``complete``."""
TABLE_ACTIONS = ("notify", "seat")
"""The host actions that take named tables (``{"tables": ["12", "13"]}``)."""


@dataclass(frozen=True)
class GuestView:
    restaurant: Restaurant
    party: Party
    estimate: Estimate | None


class Parties(TextsOut):
    """Joins, the host's actions, the guest's view and replies."""

    def join(self, restaurant: Restaurant, *, name: str, phone: str, party_size: int, notes: str = "",
             seating: str = "any", language: str | None = None, tags: Iterable[str] = (),
             actor: str = "host", remote: bool = False, snapshot: Snapshot | None = None,
             quote_override: int | None = None, code: JoinCodeClaim | None = None,
             welcome: Callable[[str], tuple[str, str]] | None = None) -> Party:
        """Add a party. A remote join (a guest's text, or the join page's code texted back: ``code``)
        must find the list open and within its caps; only joins made count toward the number's daily
        cap. ``snapshot`` is the line as just read (``authenticate_for_join``), else it is read here.
        ``quote_override`` is the host's quote in minutes ("tell them 45"), given instead of the
        estimator's. (The pending status is only for remote joins made before join codes: nothing
        creates it any more, and ``confirm`` and ``expire_pending`` finish those.)
        ``welcome`` replaces the joined text: given the party's language it answers (kind, body), recorded
        atomically with the join in its place, so the guest gets one text, never both (a reservation's
        guests checked in early get "we'll text when your table is ready", not a place in line)."""
        phone = normalize_phone(phone, self.config.default_region)
        self._check_party_size(restaurant, party_size)
        override = host_quote(quote_override) if quote_override is not None else None
        now = self.clock()
        day = digest = ""  # the daily cap's count: remote joins only (a host's add needs no keyed hash)
        if remote:
            self._check_remote_join(restaurant)
            day = datetime.fromtimestamp(now, tz=ZoneInfo(restaurant.timezone)).strftime("%Y-%m-%d")
            digest = self.digest(phone)
        if snapshot is None:
            snapshot = self.store.snapshot(restaurant.slug)
        raw: str | None = None
        if override is not None:
            minutes, low, high = override
        else:
            quote = estimate_wait(snapshot, party_size, tables=table_counts(restaurant), now=now,
                                  joins=table_joins(restaurant), clearing_minutes=restaurant.settings.clearing_minutes)
            minutes, low, high = quote.minutes, quote.low, quote.high
            raw = codec.quote_record(quote) if quote.raw >= 0 else None
        party = Party(id=new_id(), restaurant=restaurant.slug, name=name, phone=phone, party_size=party_size,
                      notes=notes, seating=seating, language=language, token=new_token(self._ensure_code(restaurant)),
                      quote_minutes=minutes, quote_low=low, quote_high=high, quote_raw=raw, joined_at=now,
                      remote=remote, tags=sorted(set(tags)))
        if override is not None:
            party.quote_source, party.quote_at = QUOTE_BY_HOST, now
        # The joined text is recorded by the join itself, for the place the party will nearly always
        # take: the end of the line just read. Atomic with the join, and one round trip fewer.
        expected_position = len(snapshot.waiting_sizes) + 1
        joined_text = self._joined_text(restaurant, party, expected_position) if welcome is None \
            else self._welcome_text(restaurant, party, welcome)
        joined = self.store.join(restaurant.slug, party, now=now, actor=actor,
                                 almost_ready_position=restaurant.settings.almost_ready_position,
                                 remote_max_active=restaurant.settings.remote_max_active,
                                 text=joined_text, text_position=expected_position, digest=digest,
                                 day=day, daily_cap=restaurant.settings.daily_join_cap if remote else 0, code=code)
        log.info("party joined slug=%s party=%s size=%d phone=%s remote=%s code=%s", restaurant.slug, party.id,
                 party_size, mask_phone(phone), remote, bool(code))
        party.position = joined.position
        if joined_text is not None and joined.text is not None:
            self._after_recording(restaurant, joined_text, joined.text)
        elif welcome is not None:
            self._record_and_send(restaurant, self._welcome_text(restaurant, party, welcome))
        else:
            self._text_joined(restaurant, party)
        return party

    def _welcome_text(self, restaurant: Restaurant, party: Party,
                      welcome: Callable[[str], tuple[str, str]]) -> OutboundText:
        lang = self.lang(restaurant, party)
        kind, body = welcome(lang)
        return self._outbound(restaurant, party.phone, kind, body, party_id=party.id,
                              first_contact_body=templates.with_opt_out(body, lang))

    def _joined_text(self, restaurant: Restaurant, party: Party, position: int) -> OutboundText:
        """The joined text for ``position``; a number's first text from this restaurant also says how
        to opt out."""
        estimate = self.estimate(restaurant, party.party_size, position=position) \
            if party.quote_low is None else None
        low, high = (estimate.low, estimate.high) if estimate else (party.quote_low or 0, party.quote_high or 0)
        args = (self.lang(restaurant, party), restaurant.name, position, quote_range_text(low, high),
                self.status_url(party))
        custom = self.custom_words(restaurant, "joined", args[0], party, {"place": str(position), "wait": args[3]})
        if custom is not None:  # the restaurant's own wording; the first text still says how to opt out
            return self._outbound(restaurant, party.phone, "joined", custom, party_id=party.id,
                                  first_contact_body=templates.with_opt_out(custom, args[0]))
        return self._outbound(restaurant, party.phone, "joined", texts.joined(*args, False), party_id=party.id,
                              first_contact_body=texts.joined(*args, True))

    def _text_joined(self, restaurant: Restaurant, party: Party) -> None:
        self._record_and_send(restaurant, self._joined_text(restaurant, party, party.position or 1))

    def _check_remote_join(self, restaurant: Restaurant) -> None:
        if not restaurant.settings.remote_join:
            raise WaitlistClosed("this restaurant takes joins at the host stand only")
        if not self.is_open(restaurant):
            raise WaitlistClosed(restaurant.settings.pause_message or "the waitlist is closed right now")

    def confirm(self, restaurant: Restaurant, party_id: str, actor: str = "guest") -> Party:
        """A guest confirmed a pending remote join from before join codes (reply 1 or the link)."""
        party = self._transition(restaurant, party_id, Status.WAITING, actor)
        self._text_joined(restaurant, party)
        return party

    def confirm_by_token(self, token: str) -> GuestView:
        view = self.guest_view(token)
        if view.party.status == Status.PENDING:
            self.confirm(view.restaurant, view.party.id)
            view = self.guest_view(token)
        return view

    def expire_pending(self, slug: str, party_id: str) -> bool:
        """An unconfirmed remote join lapses quietly: never counted in line, never texted again."""
        restaurant = self.restaurant(slug)
        try:
            self.store.transition(slug, party_id, Status.CANCELLED, allowed=[Status.PENDING], now=self.clock(),
                                  actor="timer", almost_ready_position=restaurant.settings.almost_ready_position)
        except (PartyNotFound, InvalidTransition):
            return False
        return True

    def check_in(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        """A remote party arrived at the door ("I'm here"): it may now be seated."""
        self._update_active(restaurant, party_id, {"f:checked_in": "1", "answered_at": repr(self.clock())},
                            actor=actor, event="check_in")
        return self.party(restaurant, party_id)

    def _check_party_size(self, restaurant: Restaurant, party_size: int) -> None:
        limit = restaurant.settings.max_party_size
        if party_size > limit:
            raise InvalidInput("party is too large for the waitlist",
                               fields={"party_size": [f"must be between 1 and {limit}"]})

    def list_parties(self, restaurant: Restaurant, status: str | None = None) -> list[Party]:
        """Parties on the list in queue order (waiting, notified, then pending remote joins); finished
        statuses list today's."""
        if status in (None, "active", "waiting", "notified", "pending"):
            return self.store.active_parties(restaurant.slug, status or "active")  # only that section is read
        finished = self.store.finished_parties(restaurant.slug, self.start_of_today(restaurant))
        return [p for p in finished if status == "finished" or p.status.value == status]

    def waiting_count(self, restaurant: Restaurant) -> int:
        return self.store.line_counts([restaurant.slug])["waiting"]

    def list_rows(self, restaurant: Restaurant, party_ids: list[str]) -> listing.Rows:
        """The parties a live tablet was told changed, each where it stands now, and the list's counts."""
        return self.store.rows(restaurant.slug, party_ids, self.start_of_today(restaurant))

    def list_page(self, restaurant: Restaurant, status: str | None = None, cursor: str | None = None,
                  limit: int | None = None) -> tuple[list[Party], str | None]:
        """One page of ``list_parties`` and the cursor of the next (None at the end); neither a cursor nor
        a limit asks for the whole list, as before paging (read in bounded slices either way)."""
        if cursor is None and limit is None:
            return self.list_parties(restaurant, status), None
        kind = "active" if status is None else status if status in listing.SECTIONS else "finished"
        since = self.start_of_today(restaurant) if kind == "finished" else None
        page = self.store.parties_page(restaurant.slug, kind, listing.Cursor.parse(cursor, kind) if cursor else None,
                                       limit or listing.PAGE, since,
                                       keep=lambda p: status in (None, kind) or p.status.value == status)
        return page.parties, page.next.text() if page.next else None

    def update_party(self, restaurant: Restaurant, party_id: str, patch: dict[str, Any],
                     actor: str = "host") -> Party:
        """Correct a party on the list; a ``quote_minutes`` in the patch is the host's quote
        (``override_quote``), which may also be set while a remote join awaits its confirmation."""
        patch = dict(patch)
        quote = patch.pop("quote_minutes", None)
        if "party_size" in patch:
            self._check_party_size(restaurant, patch["party_size"])
        fields = {key: ",".join(sorted(set(value))) if key == "tags" else str(value) for key, value in patch.items()}
        if quote is not None:
            fields.update(self._host_quote_fields(quote))
        if fields:
            allowed = ACTIVE_STATUSES if patch else tuple(sorted(QUOTE_OVERRIDABLE))
            self._update_active(restaurant, party_id, fields, actor=actor, allowed=allowed,
                                event="update" if patch else "quote")
        return self.party(restaurant, party_id)

    def override_quote(self, restaurant: Restaurant, party_id: str, minutes: int, actor: str = "host") -> Party:
        """The host sets the party's quote ("tell them 45"): the guest's page counts down from it, and
        the owner's numbers count it apart from the estimator's. Raises InvalidInput outside
        0..MAX_QUOTE_MINUTES, InvalidTransition once the party left the list."""
        return self.update_party(restaurant, party_id, {"quote_minutes": minutes}, actor=actor)

    def _host_quote_fields(self, minutes: int) -> dict[str, str]:
        quote, low, high = host_quote(minutes)
        return {"quote_minutes": str(quote), "quote_low": str(low), "quote_high": str(high),
                "quote_source": QUOTE_BY_HOST, "quote_at": repr(self.clock())}

    def _update_active(self, restaurant: Restaurant, party_id: str, fields: dict[str, str], *, actor: str,
                       event: str = "update", allowed: Iterable[Status] = ACTIVE_STATUSES) -> None:
        """Change a party on the list; raises PartyNotFound, or InvalidTransition once it left."""
        if self.store.update_party(restaurant.slug, party_id, fields, now=self.clock(), actor=actor,
                                   allowed=allowed, event=event) is None:
            raise PartyNotFound(f"no party {party_id!r}")

    def _transition(self, restaurant: Restaurant, party_id: str, target: Status, actor: str,
                    **extra: Any) -> Party:
        result = self.store.transition(
            restaurant.slug, party_id, target, allowed=allowed_from(target), now=self.clock(), actor=actor,
            almost_ready_position=restaurant.settings.almost_ready_position,
            clearing=restaurant.settings.clearing_minutes > 0, **extra)
        log.info("party %s slug=%s party=%s by=%s", target.value, restaurant.slug, party_id, actor)
        self._text_almost_ready(restaurant, result.promoted)
        return self.party(restaurant, party_id)

    def notify(self, restaurant: Restaurant, party_id: str, actor: str = "host", tables: Sequence[str] = ()) -> Party:
        """Table ready: text the guest and start the hold timer. A second notify re-sends the text.
        ``tables`` (named, joinable) are held for the party, atomically with the notify."""
        hold_seconds = restaurant.settings.hold_minutes * 60
        hold_until = self.clock() + hold_seconds
        party = self._transition(restaurant, party_id, Status.NOTIFIED, actor, hold_until=hold_until, tables=tables)
        self.dispatcher.expire_hold_at(restaurant.slug, party.id, str(party.hold_version), hold_until)
        self.text(restaurant, party, "table_ready",
                  texts.table_ready(self.lang(restaurant, party), restaurant.name, restaurant.settings.hold_minutes))
        return party

    def seat(self, restaurant: Restaurant, party_id: str, actor: str = "host", tables: Sequence[str] = ()) -> Party:
        """Seat the party at ``tables`` (named, joinable), or at the tables it holds, atomically."""
        if restaurant.settings.require_checkin:
            current = self.party(restaurant, party_id)
            if current.remote and "checked_in" not in current.flags and current.status in ACTIVE_STATUSES:
                raise InvalidTransition("this remote party has not checked in at the door yet",
                                        current_status=current.status.value)
        party = self._transition(restaurant, party_id, Status.SEATED, actor, tables=tables)
        if restaurant.settings.feedback:
            delay = restaurant.settings.feedback_delay_minutes * 60
            self.dispatcher.feedback_at(restaurant.slug, party.id, self.clock() + delay)
        return party

    def complete(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        return self._transition(restaurant, party_id, Status.COMPLETED, actor)

    def cancel(self, restaurant: Restaurant, party_id: str, actor: str = "host", confirm: bool = True) -> Party:
        party = self._transition(restaurant, party_id, Status.CANCELLED, actor)
        if confirm:
            self.text(restaurant, party, "left", texts.left_list(self.lang(restaurant, party), restaurant.name))
        return party

    def no_show(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        return self._transition(restaurant, party_id, Status.NO_SHOW, actor)

    def host_action(self, restaurant: Restaurant, party_id: str, action: str, tables: Sequence[str] = (),
                    actor: str = "host") -> Party:
        """One of HOST_ACTIONS by name; each is one atomic state change. ``tables`` go with a notify or
        a seat only."""
        if action not in HOST_ACTIONS:
            raise InvalidInput(f"no host action {action!r}")
        if tables:
            if action not in TABLE_ACTIONS:
                raise InvalidInput(f"tables go with {' or '.join(TABLE_ACTIONS)} only",
                                   fields={"tables": [f"only for {' or '.join(TABLE_ACTIONS)}"]})
            return getattr(self, action)(restaurant, party_id, tables=tables, actor=actor)  # type: ignore[no-any-return]
        use_case: Callable[..., Party] = getattr(self, action)
        return use_case(restaurant, party_id, actor=actor)

    def move(self, restaurant: Restaurant, party_id: str, position: int, actor: str = "host") -> Party:
        moved = self.store.move(restaurant.slug, party_id, position, now=self.clock(), actor=actor,
                                almost_ready_position=restaurant.settings.almost_ready_position)
        self._text_almost_ready(restaurant, moved.promoted)
        return self.party(restaurant, party_id)

    def expire_hold(self, slug: str, party_id: str, hold_version: str) -> bool:
        """The hold timer fired: release the table unless the party was seated, left or re-notified."""
        restaurant = self.restaurant(slug)
        try:
            self.store.transition(slug, party_id, Status.NO_SHOW, allowed=[Status.NOTIFIED], now=self.clock(),
                                  actor="timer", almost_ready_position=restaurant.settings.almost_ready_position,
                                  hold_version=hold_version)
        except (PartyNotFound, InvalidTransition) as exc:  # seated, left or notified again since
            log.info("hold timer no-op slug=%s party=%s outcome=%s", slug, party_id, exc.code)
            return False
        party = self.party(restaurant, party_id)
        self.text(restaurant, party, "hold_expired", texts.hold_expired(self.lang(restaurant, party), restaurant.name))
        return True

    def guest_view(self, token: str) -> GuestView:
        found = self.store.resolve_token(token) if token else None
        if found is None:
            raise PartyNotFound("this link is not valid or has expired")
        slug, party_id = found
        try:
            restaurant = self.restaurant(slug)
            party = self.party(restaurant, party_id)
        except (RestaurantNotFound, PartyNotFound):
            raise PartyNotFound("this link is not valid or has expired") from None
        return GuestView(restaurant, party, self.party_estimate(restaurant, party))

    def party_estimate(self, restaurant: Restaurant, party: Party) -> Estimate | None:
        """A waiting party's wait as its guest is told it: what is left of the host's quote when the host
        set one, else a fresh estimate for its place in line settled against what is left of the quote it
        was given (``settled``: the same figure as the joined text at the join, moving smoothly after),
        None once it is not waiting."""
        if party.status != Status.WAITING:
            return None
        host = remaining_host_quote(party, self.clock())
        if host is not None:
            return Estimate(minutes=host[0], low=host[1], high=host[2], parties_ahead=max(0, (party.position or 1) - 1))
        fresh = self.estimate(restaurant, party.party_size, position=party.position)
        return settled(fresh, party.quote_minutes, party.quote_low, party.quote_high, party.joined_at, self.clock())

    def guest_leave(self, token: str) -> GuestView:
        view = self.guest_view(token)
        self.cancel(view.restaurant, view.party.id, actor="guest")
        return self.guest_view(token)

    def running_late(self, restaurant: Restaurant, party_id: str, minutes: int, actor: str = "guest") -> Party:
        """Flag the party running late; a notified party's hold grows by ``minutes`` (30 at most in all)."""
        hold = self.store.extend_hold(restaurant.slug, party_id, minutes * 60, now=self.clock(), actor=actor,
                                      most_seconds=MAX_LATE_SECONDS)
        if hold.status == Status.NOTIFIED and hold.hold_until is not None and hold.hold_version:
            self.dispatcher.expire_hold_at(restaurant.slug, party_id, hold.hold_version, hold.hold_until)
        return self.party(restaurant, party_id)

    def on_the_way(self, restaurant: Restaurant, party_id: str, actor: str = "guest") -> Party:
        self._update_active(restaurant, party_id, {"f:on_the_way": "1", "answered_at": repr(self.clock())},
                            actor=actor, event="flag")
        return self.party(restaurant, party_id)

    def undo(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        """Put back a party seated or removed by mistake, in its old place, within a minute; or take
        back a notify (before the guest answered it), and tell the guest they keep their place."""
        undone = self.store.undo(restaurant.slug, party_id, now=self.clock(), window_seconds=UNDO_WINDOW_SECONDS,
                                 actor=actor)
        log.info("party undo slug=%s party=%s from=%s to=%s by=%s", restaurant.slug, party_id,
                 undone.previous.value, undone.restored.value, actor)
        party = self.party(restaurant, party_id)
        if (undone.previous, undone.restored) == UNDO_NOTIFY and party.position is not None:
            self.text(restaurant, party, "notify_undone",
                      texts.notify_undone(self.lang(restaurant, party), restaurant.name, party.position))
        return party
