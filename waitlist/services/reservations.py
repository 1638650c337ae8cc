"""Reservations: booking with pacing, a service day's list, changes, cancel / no-show / check-in, the
reminder and grace timers, and arrivals joining the same line and floor as walk-ins.

Rules live in waitlist.domain.reservations; the store (waitlist.store.reservations) writes each change
in one script. A booking reads the restaurant's bookings, decides, and writes only if nothing changed
in between (``_write``); timers carry the reservation's timer version, so a timer scheduled before a
change or a cancel does nothing, and the timer script latches, so each fires once.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from waitlist.domain.errors import AlreadyWaiting, InvalidInput, JoinCodeUnknown, LimitReached, TableTaken
from waitlist.domain.join_codes import (
    JOIN_CODE_KEEP_SECONDS,
    JOIN_CODE_SECONDS,
    JOIN_CODES_PER_ADDRESS,
    JOIN_CODES_PER_RESTAURANT,
    new_join_code,
)
from waitlist.domain.model import CODE_LENGTH, Restaurant, iso
from waitlist.domain.phones import normalize_phone
from waitlist.domain.reservations import (
    CHANGEABLE,
    HOLDS_TABLE,
    ReservationNotFound,
    ReservationsOff,
    ReservationStatus,
    Rules,
    Slot,
    SlotFull,
    allowed_from,
    hold_minutes,
    parse_local,
    parse_rules,
    refusal,
    rules_from_json,
    slot_at,
    slots_for_day,
)
from waitlist.domain.tables import can_hold, floor_of, table_counts
from waitlist.estimate.dining import DiningModel
from waitlist.services.access import new_id, new_token
from waitlist.services.remote_join import CODE_DRAWS
from waitlist.services.waitlist import Waitlist
from waitlist.store.join_codes import CodeTaken, JoinCode
from waitlist.store.messages import OutboundText
from waitlist.store.reservations import NotABookingCode, ReservationStore, VersionChanged
from waitlist.texting import texts

RETRIES = 8
"""Bookings re-read and re-decided after another booking won the race; more than a handful means a storm."""
NO_REMOTE_CAP = 1 << 30
"""A booking code holds no place in line, so the join codes' remote_max_active check does not apply."""
REMINDER, GRACE = "reminder", "grace"
TIMER_STATUSES = {REMINDER: ("booked", "confirmed"), GRACE: ("booked", "confirmed")}


def when_text(local: datetime, lang: str) -> str:
    """The booking's time as a text says it: "Thu 24 Dec 19:30" / "12月24日 19:30"."""
    if lang == "zh":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return local.strftime("%a %d %b %H:%M")


class Reservations:
    """Every reservation use case, over the waitlist's services (texts, parties, tables)."""

    def __init__(self, waitlist: Waitlist, store: ReservationStore, clock: Callable[[], float] | None = None):
        self.waitlist = waitlist
        self.store = store
        self.clock = clock or waitlist.clock

    # --- settings and availability ----------------------------------------------------------------------

    def rules(self, restaurant: Restaurant) -> Rules:
        return rules_from_json(self.store.rules(restaurant.slug))

    def update_rules(self, restaurant: Restaurant, patch: dict[str, Any]) -> Rules:
        rules = parse_rules(patch, self.rules(restaurant))
        self.store.save_rules(restaurant.slug, rules.to_dict())
        return rules

    def availability(self, restaurant: Restaurant, day: date, party_size: int, *, guest: bool = True) -> list[Slot]:
        """The slots of ``day`` a party of ``party_size`` may still book, in one read of the bookings."""
        rules = self.rules(restaurant)
        if guest and not rules.enabled:
            return []
        self._check_size(restaurant, rules, party_size, guest=guest)
        zone = ZoneInfo(restaurant.timezone)
        now = self.clock()
        slots = [slot for slot in slots_for_day(rules, day, zone) if slot.start > now]
        if not slots:
            return []
        learned = self._learned(restaurant, rules, party_size, slots[0].start)
        longest = max(hold_minutes(rules, party_size, learned), 60) * 60
        pacing = self.store.pacing(restaurant.slug, slots[0].start, slots[-1].start + longest)
        tables, seats = self._floor(restaurant)
        step = rules.slot_minutes * 60
        hold = hold_minutes(rules, party_size, learned) * 60
        return [slot for slot in slots if refusal(
            rules, start=slot.start, end=slot.start + hold, size=party_size, slot_start=slot.start,
            slot_end=slot.start + step, others=pacing.booked, tables=tables, total_seats=seats) is None]

    # --- booking and changes ------------------------------------------------------------------------

    def book(self, restaurant: Restaurant, *, name: str, phone: str, party_size: int, time: str, notes: str = "",
             tags: Iterable[str] = (), language: str | None = None, force: bool = False, actor: str = "host",
             source: str = "staff") -> dict[str, Any]:
        """Book a table. Raises InvalidInput (time in the past, outside hours, size), SlotFull (unless
        ``force``: staff only) or LimitReached (too many bookings at once)."""
        rules = self.rules(restaurant)
        guest = source == "guest"
        if guest and not rules.enabled:
            raise ReservationsOff("this restaurant takes no bookings online")
        phone = normalize_phone(phone, self.waitlist.config.default_region)
        self._check_size(restaurant, rules, party_size, guest=guest)
        slot = self._slot(restaurant, rules, time)
        reservation_id = new_id()
        token = new_token(self.waitlist._ensure_code(restaurant))
        now = self.clock()
        fields = {"id": reservation_id, "name": name, "phone": phone, "party_size": str(party_size),
                  "status": ReservationStatus.BOOKED.value, "notes": notes, "tags": ",".join(sorted(set(tags))),
                  "token": token, "language": language or "", "source": source, "created_at": repr(now),
                  "forced": "1" if force else "", "actor": actor}
        saved = self._write(restaurant, rules, reservation_id, fields, slot, party_size, token, force, create=True)
        self._text(restaurant, saved, "reservation_booked", lambda lang, local: texts.reservation_booked(
            lang, restaurant.name, when_text(local, lang), party_size, self.manage_url(token)))
        return self.to_dict(restaurant, saved)

    def change(self, restaurant: Restaurant, reservation_id: str, *, time: str | None = None,
               party_size: int | None = None, notes: str | None = None, force: bool = False,
               guest: bool = False, actor: str = "host") -> dict[str, Any]:
        """Change the time, size or notes of a booking not yet arrived, within the same caps as a booking."""
        current = self._load(restaurant, reservation_id)
        rules = self.rules(restaurant)
        size = int(current["party_size"]) if party_size is None else party_size
        self._check_size(restaurant, rules, size, guest=guest)
        if time is not None:
            slot = self._slot(restaurant, rules, time)
        else:
            local = datetime.fromtimestamp(float(current["start"]), tz=ZoneInfo(restaurant.timezone))
            slot = Slot(float(current["start"]), local)
        fields = {"party_size": str(size), "actor": actor}
        if notes is not None:
            fields["notes"] = notes
        saved = self._write(restaurant, rules, reservation_id, fields, slot, size, current["token"], force,
                            create=False)
        return self.to_dict(restaurant, saved)

    def _write(self, restaurant: Restaurant, rules: Rules, reservation_id: str, fields: dict[str, str], slot: Slot,
               size: int, token: str, force: bool, *, create: bool) -> dict[str, str]:
        """Decide on the bookings as read and write if they are unchanged; read again when another
        booking came first. Schedules the reminder and grace timers of the new timer version."""
        hold = hold_minutes(rules, size, self._learned(restaurant, rules, size, slot.start)) * 60
        step = rules.slot_minutes * 60
        tables, seats = self._floor(restaurant)
        fields = {**fields, "start": repr(slot.start), "end": repr(slot.start + hold), "local": slot.label}
        phone = fields.get("phone") or self._load(restaurant, reservation_id)["phone"]
        for _attempt in range(RETRIES):
            pacing = self.store.pacing(restaurant.slug, slot.start, slot.start + hold)
            others = [b for b in pacing.booked if b.id != reservation_id]
            reason = refusal(rules, start=slot.start, end=slot.start + hold, size=size, slot_start=slot.start,
                             slot_end=slot.start + step, others=others, tables=tables, total_seats=seats)
            if reason and not force:
                raise SlotFull(f"{slot.label} is full: {reason}", fields={"time": [reason]})
            try:
                timer_version = self.store.write(
                    restaurant.slug, reservation_id, version=pacing.version, create=create, fields=fields,
                    start=slot.start, end=slot.start + hold, size=size, token=token, now=self.clock(),
                    changeable=sorted(s.value for s in CHANGEABLE), force=bool(reason),
                    phone_digest=self.waitlist.digest(phone))
            except VersionChanged:
                continue
            self._schedule(restaurant, rules, reservation_id, slot.start, timer_version)
            return self._load(restaurant, reservation_id)
        raise LimitReached("many bookings at once: please try again")

    def _schedule(self, restaurant: Restaurant, rules: Rules, reservation_id: str, start: float, version: str) -> None:
        now = self.clock()
        schedule = self.waitlist.dispatcher.reservation_timer_at
        if rules.reminder_hours and start - rules.reminder_hours * 3600 > now:
            schedule(restaurant.slug, reservation_id, REMINDER, version, start - rules.reminder_hours * 3600)
        schedule(restaurant.slug, reservation_id, GRACE, version, start + rules.grace_minutes * 60)

    # --- status changes -----------------------------------------------------------------------------------

    def set_status(self, restaurant: Restaurant, reservation_id: str, target: ReservationStatus,
                   actor: str = "host", fields: dict[str, str] | None = None) -> dict[str, str]:
        self.store.set_status(restaurant.slug, reservation_id, target.value, sources=allowed_from(target),
                              holds=target in HOLDS_TABLE, now=self.clock(), actor=actor,
                              fields={"actor": actor, **(fields or {})})
        return self._load(restaurant, reservation_id)

    def cancel(self, restaurant: Restaurant, reservation_id: str, actor: str = "host") -> dict[str, Any]:
        saved = self.set_status(restaurant, reservation_id, ReservationStatus.CANCELLED, actor)
        self._text(restaurant, saved, "reservation_cancelled", lambda lang, local: texts.reservation_cancelled(
            lang, restaurant.name, when_text(local, lang)))
        return self.to_dict(restaurant, saved)

    def confirm(self, restaurant: Restaurant, reservation_id: str, actor: str = "guest") -> dict[str, Any]:
        saved = self.set_status(restaurant, reservation_id, ReservationStatus.CONFIRMED, actor)
        self._text(restaurant, saved, "reservation_confirmed", lambda lang, local: texts.reservation_confirmed(
            lang, restaurant.name, when_text(local, lang)))
        return self.to_dict(restaurant, saved)

    def no_show(self, restaurant: Restaurant, reservation_id: str, actor: str = "host") -> dict[str, Any]:
        return self.to_dict(restaurant, self.set_status(restaurant, reservation_id, ReservationStatus.NO_SHOW, actor))

    def check_in(self, restaurant: Restaurant, reservation_id: str, actor: str = "host") -> dict[str, Any]:
        """The guests are here: they become a party on the one list, seated at once at a free table that
        suits them, else placed first in line with the ``reservation`` flag (their joined text says
        their place and links their status page; the table-ready text follows as for any party). Guests
        early for their time with no table free get the arrived-early text instead of the joined text.
        Arrival is one atomic change first, so of two taps only one makes a party."""
        current = self.set_status(restaurant, reservation_id, ReservationStatus.ARRIVED, actor)
        size = int(current["party_size"])
        free = self._free_tables(restaurant, size)  # a join changes no table: read once, before it
        early = self.clock() < float(current["start"]) and not free
        try:
            party_id = self.waitlist.join(restaurant, name=current["name"], phone=current["phone"], party_size=size,
                                          notes=current.get("notes", ""), language=current.get("language") or None,
                                          actor=actor, welcome=self._early_text(restaurant) if early else None).id
        except AlreadyWaiting as exc:  # the guest put their name down at the door already: that party it is
            party_id = str(exc.extra.get("party_id") or "")
            if not party_id:
                raise
        self.store.set_party(restaurant.slug, reservation_id, party_id)
        self.waitlist.set_flags(restaurant, party_id, actor=actor, reservation=True)
        for table in free:
            try:
                self.waitlist.seat(restaurant, party_id, actor=actor, tables=[table])
            except TableTaken:
                continue  # taken since the read: try the next one
            return self.to_dict(restaurant, self.set_status(restaurant, reservation_id, ReservationStatus.SEATED,
                                                            actor))
        self.waitlist.move(restaurant, party_id, 1, actor=actor)
        return self.to_dict(restaurant, self._load(restaurant, reservation_id))

    def _early_text(self, restaurant: Restaurant) -> Callable[[str], tuple[str, str]]:
        """The arrived-early text, in the party's language, for ``Waitlist.join``'s ``welcome``."""
        kind = "reservation_arrived_early"
        return lambda lang: (kind, self.waitlist.custom_words(restaurant, kind, lang)
                             or texts.reservation_arrived_early(lang, restaurant.name))

    def _learned(self, restaurant: Restaurant, rules: Rules, size: int, at: float) -> dict[int, float] | None:
        """The restaurant's learned mean dining minutes for ``size`` at ``at``'s hour of the week (the
        estimator's model), when its rules set no hold for that size and tables have turned here; else
        None (the rules' or the 90-minute default). Read only then: most restaurants set their holds."""
        if any(size <= int(given) for given in rules.hold_minutes):
            return None
        snapshot = self.waitlist.store.snapshot(restaurant.slug)
        if not snapshot.turns:
            return None
        return {size: DiningModel(snapshot).mean(size, at)}

    def _free_tables(self, restaurant: Restaurant, size: int) -> list[str]:
        """Free named tables that seat ``size`` alone, smallest first."""
        floor = floor_of(restaurant)
        if not floor or not can_hold(floor, size):
            return []
        states = {state.name: state for state in self.waitlist.tables(restaurant)}
        fits = [t for t in floor if t.seats >= size and t.name in states and states[t.name].state == "free"]
        return [t.name for t in sorted(fits, key=lambda t: t.seats)]

    # --- timers -------------------------------------------------------------------------------------------

    def fire_timer(self, slug: str, reservation_id: str, kind: str, version: str) -> str:
        """A reminder or grace timer is due: text the guest once, if the booking is still as it was."""
        restaurant = self.waitlist.restaurant(slug)
        current = self.store.load(slug, reservation_id)
        if current is None:
            return "not_found"
        lang = current.get("language") or restaurant.settings.language or restaurant.language
        local = datetime.fromtimestamp(float(current["start"]), tz=ZoneInfo(restaurant.timezone))
        size = int(current["party_size"])
        body = self._words(restaurant, current, "reservation_reminder" if kind == REMINDER else "reservation_no_show",
                           lang, local) or (
            texts.reservation_reminder(lang, restaurant.name, when_text(local, lang), size) if kind == REMINDER
            else texts.reservation_no_show(lang, restaurant.name, when_text(local, lang)))
        text = self._outbound(restaurant, current, f"reservation_{kind}", body)
        return self.store.fire_timer(slug, reservation_id, kind=kind, version=version,
                                     statuses=TIMER_STATUSES[kind], now=self.clock(), text=text)

    def reply(self, restaurant: Restaurant, phone: str, answer: str) -> dict[str, Any] | None:
        """A guest's "C" (confirm) or "9" (cancel) to their next booking still to come; None when the
        number has none here (the text is then not about a reservation)."""
        now = self.clock()
        for reservation_id in self.store.for_phone(restaurant.slug, self.waitlist.digest(phone), now - 3600):
            row = self.store.load(restaurant.slug, reservation_id)
            if row is None or row["status"] not in TIMER_STATUSES[GRACE]:
                continue
            if answer == "cancel":
                return self.cancel(restaurant, reservation_id, actor="guest")
            if row["status"] == ReservationStatus.CONFIRMED.value:
                return self.to_dict(restaurant, row)  # confirmed already: say nothing twice
            return self.confirm(restaurant, reservation_id, actor="guest")
        return None

    # --- the booking page: confirmed by the guest's own text ---------------------------------------------

    def open_booking_code(self, restaurant: Restaurant, *, name: str, party_size: int, time: str, address: str,
                          language: str | None = None) -> JoinCode:
        """A code for a guest on the booking page to text ("BOOK <code>"): the booking is made only when that
        text arrives, with the number it came from, so the page texts nobody. Codes are the join page's
        (waitlist.services.remote_join), capped the same way per address and per restaurant. Raises
        ReservationsOff, InvalidInput, SlotFull (the slot is full already) or JoinCodeLimit."""
        rules = self.rules(restaurant)
        if not rules.enabled:
            raise ReservationsOff("this restaurant takes no bookings online")
        self._check_size(restaurant, rules, party_size, guest=True)
        slot = self._slot(restaurant, rules, time)
        if slot.start not in {s.start for s in self.availability(restaurant, slot.local.date(), party_size)} and \
                slot.start not in {s.start for s in self.availability(
                    restaurant, slot.local.date() - timedelta(days=1), party_size)}:
            raise SlotFull(f"{slot.label} is full", fields={"time": ["full"]})
        now = self.clock()
        address_digest = self.waitlist.digest(f"address:{address}")[:32]
        fields = {"kind": "booking", "name": name, "party_size": str(party_size), "time": time,
                  "language": language or ""}
        for _draw in range(CODE_DRAWS):
            code, ticket = new_join_code(), secrets.token_urlsafe(18)
            try:
                self.waitlist.join_codes.open_code(
                    restaurant.slug, code=code, ticket=ticket, address=address_digest, now=now,
                    seconds=JOIN_CODE_SECONDS, keep_seconds=JOIN_CODE_KEEP_SECONDS, per_address=JOIN_CODES_PER_ADDRESS,
                    per_restaurant=JOIN_CODES_PER_RESTAURANT, remote_max_active=NO_REMOTE_CAP, fields=fields)
            except CodeTaken:
                continue
            return JoinCode(code=code, ticket=ticket, state="open", expires_at=now + JOIN_CODE_SECONDS,
                            address=address_digest, fields=fields)
        raise LimitReached("could not find a free code, please try again")

    def book_by_code(self, restaurant: Restaurant, phone: str, code_text: str) -> str:
        """The guest texted their booking code from ``phone``: take the code and book, once. Answers
        "booked", "refused" (the slot went meanwhile: told by text, as the number texted first) or
        "not_booking" (a join page's code, or none: the waitlist's join takes it). Raises
        JoinCodeExpired and JoinCodeUsed for a booking code."""
        code = self.waitlist.join_codes.load(restaurant.slug, code_text)
        if code is None or code.fields.get("kind") != "booking":
            return "not_booking"
        try:
            self.store.claim_code(restaurant.slug, code.code, code.address, now=self.clock(),
                                  digest=self.waitlist.digest(phone), keep=JOIN_CODE_KEEP_SECONDS)
        except NotABookingCode:
            return "not_booking"
        fields = code.fields
        language = fields.get("language") or None
        try:
            booked = self.book(restaurant, name=fields.get("name") or "Guest", phone=phone,
                               party_size=int(fields["party_size"]), time=fields["time"], language=language,
                               actor="guest", source="guest")
        except (SlotFull, InvalidInput):
            lang = language or restaurant.settings.language
            local = parse_local(fields["time"], ZoneInfo(restaurant.timezone))
            self.waitlist.text_number(restaurant, phone, "reservation_slot_gone", texts.reservation_slot_gone(
                lang, restaurant.name, when_text(local, lang)))
            return "refused"
        self.store.set_code_token(restaurant.slug, code.code, booked["manage_url"].rsplit("/", 1)[1])
        return "booked"

    def code_state(self, restaurant: Restaurant, ticket: str) -> tuple[JoinCode, str]:
        """The booking page's code and where it stands: "open", "booked" or "expired"."""
        found = self.waitlist.join_codes.for_ticket(restaurant.slug, ticket) if ticket else None
        if found is None or found.fields.get("kind") != "booking":
            raise JoinCodeUnknown("this booking page is not valid any more: please book again")
        if found.token:
            return found, "booked"
        return found, "open" if found.state == "open" and found.expires_at > self.clock() else "expired"

    # --- reads ----------------------------------------------------------------------------------------

    def day(self, restaurant: Restaurant, day: date) -> list[dict[str, Any]]:
        """Every reservation of a service day (from 4 am to 4 am, as services run past midnight)."""
        zone = ZoneInfo(restaurant.timezone)
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(hours=4)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone) + timedelta(hours=4)
        rows = self.store.between(restaurant.slug, start.timestamp(), end.timestamp())
        return [self.to_dict(restaurant, row) for row in rows]

    def get(self, restaurant: Restaurant, reservation_id: str) -> dict[str, Any]:
        return self.to_dict(restaurant, self._load(restaurant, reservation_id))

    def by_token(self, token: str) -> tuple[Restaurant, dict[str, Any]]:
        """The restaurant and reservation of a manage link; ReservationNotFound for any other token."""
        slug = self.store.slug_for_code(token[:CODE_LENGTH]) if len(token) > CODE_LENGTH else None
        reservation_id = self.store.by_token(slug, token) if slug else None
        if not slug or not reservation_id:
            raise ReservationNotFound("this link is not valid any more")
        restaurant = self.waitlist.restaurant(slug)
        return restaurant, self.get(restaurant, reservation_id)

    def manage_url(self, token: str) -> str:
        return f"{self.waitlist.config.public_base_url}/r/{token}"

    def to_dict(self, restaurant: Restaurant, row: dict[str, str]) -> dict[str, Any]:
        return {
            "id": row["id"], "status": row["status"], "time": row["local"], "starts_at": iso(float(row["start"])),
            "ends_at": iso(float(row["end"])), "party_size": int(row["party_size"]), "name": row["name"],
            "phone": row["phone"], "notes": row.get("notes", ""),
            "tags": [tag for tag in row.get("tags", "").split(",") if tag], "source": row.get("source", "staff"),
            "forced": bool(row.get("forced")), "party_id": row.get("party") or None,
            "manage_url": self.manage_url(row["token"]), "created_at": iso(float(row["created_at"])),
        }

    # --- helpers ------------------------------------------------------------------------------------------

    def _load(self, restaurant: Restaurant, reservation_id: str) -> dict[str, str]:
        row = self.store.load(restaurant.slug, reservation_id)
        if row is None:
            raise ReservationNotFound(f"no reservation {reservation_id!r}")
        return row

    def _check_size(self, restaurant: Restaurant, rules: Rules, size: int, *, guest: bool) -> None:
        most = rules.max_party_size if guest else restaurant.settings.max_party_size
        if not 1 <= size <= most:
            raise InvalidInput(f"party size must be 1 to {most}" + (" (larger parties: please call)" if guest else ""),
                               fields={"party_size": [f"must be 1 to {most}"]})

    def _slot(self, restaurant: Restaurant, rules: Rules, time_text: str) -> Slot:
        zone = ZoneInfo(restaurant.timezone)
        when = parse_local(time_text, zone)
        if when.timestamp() <= self.clock():
            raise InvalidInput("that time has passed", fields={"time": ["in the past"]})
        if when.timestamp() > self.clock() + rules.horizon_days * 86400:
            raise InvalidInput(f"bookings open {rules.horizon_days} days ahead",
                               fields={"time": ["too far ahead"]})
        found = slot_at(rules, when)
        if found is None:
            raise InvalidInput("outside reservable hours (or not on a slot)",
                               fields={"time": ["outside reservable hours"]})
        return found[1]

    def _floor(self, restaurant: Restaurant) -> tuple[list[int] | None, int | None]:
        counts = table_counts(restaurant)
        if not counts:
            return None, None
        tables = [int(seats) for seats, count in counts.items() for _ in range(count)]
        return tables, sum(tables)

    def _outbound(self, restaurant: Restaurant, row: dict[str, str], kind: str, body: str) -> OutboundText:
        text = self.waitlist._outbound(restaurant, row["phone"], kind, body, party_id="", first_contact_body=None)
        text.message["reservation"] = row["id"]
        return text

    def _text(self, restaurant: Restaurant, row: dict[str, str], kind: str,
              body: Callable[[str, datetime], str]) -> None:
        lang = row.get("language") or restaurant.settings.language or restaurant.language
        local = datetime.fromtimestamp(float(row["start"]), tz=ZoneInfo(restaurant.timezone))
        words = self._words(restaurant, row, kind, lang, local) or body(lang, local)
        self.waitlist._record_and_send(restaurant, self._outbound(restaurant, row, kind, words))

    def _words(self, restaurant: Restaurant, row: dict[str, str], kind: str, lang: str, local: datetime) -> str | None:
        """The restaurant's own wording of a reservation text (waitlist.texting.templates), or None."""
        return self.waitlist.custom_words(restaurant, kind, lang, None, {
            "time": when_text(local, lang), "size": row["party_size"], "link": self.manage_url(row["token"])})
