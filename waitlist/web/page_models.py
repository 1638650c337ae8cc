"""What each page shows, as plain values built from the Waitlist use cases.

Templates only ever see these models, so what a page can leak is decided here: the guest's page
gets its own party (never the phone), the lobby screen gets first names with a last initial.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from waitlist.domain.model import QUOTE_BY_HOST, Party, Restaurant, Status, may_undo, quote_range_text
from waitlist.domain.people import actor_name
from waitlist.services.waitlist import UNDO_WINDOW_SECONDS, Waitlist

LATE_MINUTES = 10
BOARD_SIZES = ((2, "1–2"), (4, "3–4"), (6, "5–6"), (8, "7+"))

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your place in line", "party_of": "Party of {n}", "place": "Place in line",
        "estimate": "Estimated wait", "minutes": "{range} min", "status": "Status",
        "waiting": "Waiting", "ready": "Your table is ready — please hurry back!",
        "held_until": "Held for you until {time}", "seated": "Seated — enjoy your meal!",
        "left": "You are no longer on the waitlist.", "late": "I'm running late",
        "late_noted": "We know you're running late.", "on_the_way": "We know you're on the way.",
        "leave": "Leave the waitlist", "leave_confirm": "Yes, leave the waitlist",
        "leave_question": "Are you sure? Your place will be given to the next party.",
        "live": "This page updates by itself.", "lang": "en",
    },
    "zh": {
        "title": "您的排队状态", "party_of": "{n} 位", "place": "排队位置",
        "estimate": "预计等候", "minutes": "{range} 分钟", "status": "状态",
        "waiting": "等候中", "ready": "您的餐桌已准备好，请尽快回来！",
        "held_until": "为您保留至 {time}", "seated": "已入座，祝您用餐愉快！",
        "left": "您已不在候位名单上。", "late": "我会晚一点到",
        "late_noted": "我们知道您会晚一点到。", "on_the_way": "我们知道您正在路上。",
        "leave": "退出候位", "leave_confirm": "确定退出候位",
        "leave_question": "确定吗？您的位置将让给下一桌。",
        "live": "本页面会自动更新。", "lang": "zh-Hans",
    },
}


def strings(language: str) -> dict[str, str]:
    return STRINGS.get(language, STRINGS["en"])


def short_name(name: str) -> str:
    """"Ana Lima" -> "Ana L.": enough for a guest to recognise themselves on a public screen."""
    parts = name.split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


def clock_text(restaurant: Restaurant, ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=ZoneInfo(restaurant.timezone)).strftime("%H:%M")


# --- the guest's page ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class GuestPage:
    token: str
    restaurant: str
    name: str
    party_size: int
    state: str  # waiting | ready | seated | left
    position: int | None
    estimate: str | None
    held_until: str
    running_late: bool
    on_the_way: bool
    language: str

    @property
    def active(self) -> bool:
        return self.state in ("waiting", "ready")


def guest(waitlist: Waitlist, token: str) -> GuestPage:
    view = waitlist.guest_view(token)
    party, restaurant = view.party, view.restaurant
    state = {Status.WAITING: "waiting", Status.NOTIFIED: "ready", Status.SEATED: "seated",
             Status.COMPLETED: "seated"}.get(party.status, "left")
    estimate = None
    if view.estimate is not None:
        estimate = quote_range_text(view.estimate.low, view.estimate.high)
    return GuestPage(
        token=token, restaurant=restaurant.name, name=party.name, party_size=party.party_size, state=state,
        position=party.position if state == "waiting" else None, estimate=estimate,
        held_until=clock_text(restaurant, party.hold_until) if state == "ready" else "",
        running_late="running_late" in party.flags, on_the_way="on_the_way" in party.flags,
        language=waitlist.lang(restaurant, party))


def running_late(waitlist: Waitlist, token: str) -> None:
    """The guest's "I'm running late" button: the same use case as texting LATE."""
    view = waitlist.guest_view(token)
    waitlist.running_late(view.restaurant, view.party.id, LATE_MINUTES, actor="guest")


# --- the lobby screen ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BoardPage:
    slug: str
    restaurant: str
    called: list[str]
    waiting: int
    waits: list[tuple[str, str]]


def board(waitlist: Waitlist, slug: str) -> BoardPage:
    restaurant = waitlist.restaurant(slug)
    called = [short_name(p.name) for p in waitlist.list_parties(restaurant, "notified")]
    waiting = waitlist.waiting_count(restaurant)  # counted, not read: a lobby re-reads on every change
    estimates = waitlist.estimates_by_size(restaurant, [size for size, _label in BOARD_SIZES])
    waits = [(label, quote_range_text(estimates[size].low, estimates[size].high)) for size, label in BOARD_SIZES]
    return BoardPage(slug=slug, restaurant=restaurant.name, called=called, waiting=waiting, waits=waits)


# --- the host stand ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Icon:
    """A flag or badge shown as a small icon; its label is the title and the accessible name."""

    name: str  # the icon's symbol in _host_icons.html
    label: str
    tone: str = ""  # warn | good | info: the chip's colour


@dataclass(frozen=True)
class HostRow:
    id: str
    position: int | None
    name: str
    party_size: int
    notes: str
    seating: str
    language: str
    status: str
    waited: int
    quoted: int | None
    held_until: str
    hold_seconds: int | None = None
    """Seconds left of a called party's hold when the page was rendered: the page counts down from it
    (the tablet's own clock may be off; the time the hold ends, ``held_until``, is shown without script)."""
    flags: list[str] = field(default_factory=list)
    icons: list[Icon] = field(default_factory=list)
    needs_checkin: bool = False
    quote_overridden: bool = False
    undoable: bool = False
    """A just-notified party the host may still take the notify back from (the domain's ``may_undo``)."""
    over: bool = False
    """Waiting longer than quoted (shown in red)."""
    waited_seconds: int = 0
    """Seconds waited when rendered: the page ages "minutes waited" from it, with no re-read of the list."""
    over_in: int | None = None
    """Seconds from rendering until a waiting party goes past its quote (None: no quote, or already over)."""


@dataclass(frozen=True)
class FinishedRow:
    id: str
    name: str
    party_size: int
    status: str
    at: str
    undoable: bool
    by: str = ""
    """Who seated (or removed) the party, when a person did."""


@dataclass(frozen=True)
class HostList:
    rows: list[HostRow]
    finished: list[FinishedRow]

    @property
    def called(self) -> list[HostRow]:
        """Notified parties, whose hold is running out: the top of the stand."""
        return [row for row in self.rows if row.status == "notified"]

    @property
    def in_line(self) -> list[HostRow]:
        return [row for row in self.rows if row.status == "waiting"]

    @property
    def pending(self) -> list[HostRow]:
        """Remote joins the guest has not confirmed yet: not in line, nothing to notify or seat."""
        return [row for row in self.rows if row.status == "pending"]

    @property
    def waiting(self) -> int:
        return len(self.in_line)


FLAG_ORDER = (("running_late", "running late"), ("on_the_way", "on the way"),
              ("sms_failed", "can't be texted"), ("opted_out", "can't be texted"), ("new_message", "new message"))
FLAG_ICONS = {"running late": ("late", "warn"), "on the way": ("on-the-way", "good"),
              "can't be texted": ("no-text", "warn"), "new message": ("message", "info")}
TAG_LABELS = {"accessible": "accessible", "high_chair": "high chair", "vip": "VIP"}
TAG_ICONS = {"accessible": "accessible", "high_chair": "high-chair", "vip": "vip"}
SEATING_ICONS = {"indoor": "indoor", "outdoor": "outdoor", "bar": "bar"}


def flag_labels(party: Party) -> list[str]:
    labels: list[str] = []
    for flag, label in FLAG_ORDER:
        if flag in party.flags and label not in labels:
            labels.append(label)
    return labels


def icons(party: Party) -> list[Icon]:
    """Flags, then badges (a remote join, tags), then the seating asked for: each one small icon with its
    words, beside the name so the host seats the party right."""
    shown = [Icon(FLAG_ICONS[label][0], label, FLAG_ICONS[label][1]) for label in flag_labels(party)]
    if party.no_table_fits:  # no table of the floor, alone or joined, seats it: the host sees it at once
        shown.insert(0, Icon("no-table", "no table fits", "warn"))
    checked_in = "checked_in" in party.flags
    if party.remote:
        shown.append(Icon("remote-here" if checked_in else "remote",
                          "remote · checked in" if checked_in else "remote", "info"))
    elif checked_in:  # a walk-in who texted "we're here"
        shown.append(Icon("remote-here", "here", "good"))
    shown += [Icon(TAG_ICONS.get(tag, "tag"), TAG_LABELS.get(tag, tag)) for tag in party.tags]
    if party.seating in SEATING_ICONS:
        shown.append(Icon(SEATING_ICONS[party.seating], f"{party.seating} seating"))
    return shown


def over_quote(party: Party, now: float) -> bool:
    """Waiting past the quote; a host's quote counts from when it was given, the estimator's from the join."""
    if party.status != Status.WAITING or party.quote_minutes is None:
        return False
    since = party.quote_at if party.quote_source == QUOTE_BY_HOST and party.quote_at else party.joined_at
    return (now - since) / 60 > party.quote_minutes


def over_in(party: Party, now: float) -> int | None:
    """Seconds until ``over_quote`` turns true, for the page to turn the row red by itself."""
    if party.status != Status.WAITING or party.quote_minutes is None:
        return None
    since = party.quote_at if party.quote_source == QUOTE_BY_HOST and party.quote_at else party.joined_at
    left = party.quote_minutes * 60 - (now - since)
    return int(left) + 1 if left >= 0 else None


def host_row(restaurant: Restaurant, p: Party, now: float) -> HostRow:
    return HostRow(
        id=p.id, position=p.position, name=p.name, party_size=p.party_size, notes=p.notes, seating=p.seating,
        language=p.language or "", status=p.status.value, waited=int(p.waited_minutes(now)),
        quoted=p.quote_minutes, held_until=clock_text(restaurant, p.hold_until) if p.hold_until else "",
        hold_seconds=max(0, int(p.hold_until - now)) if p.hold_until and p.status == Status.NOTIFIED else None,
        flags=flag_labels(p), icons=icons(p),
        needs_checkin=p.remote and "checked_in" not in p.flags and p.status.value != "pending",
        quote_overridden=p.quote_source == QUOTE_BY_HOST, undoable=may_undo(p, now, UNDO_WINDOW_SECONDS),
        over=over_quote(p, now), waited_seconds=int(p.waited_minutes(now) * 60), over_in=over_in(p, now))


def finished_row(restaurant: Restaurant, p: Party, now: float) -> FinishedRow:
    return FinishedRow(
        id=p.id, name=p.name, party_size=p.party_size, status=p.status.value.replace("_", "-"),
        at=clock_text(restaurant, p.finished_at or p.seated_at), undoable=may_undo(p, now, UNDO_WINDOW_SECONDS),
        by=actor_name(p.by) if p.by.startswith(("person:", "key:")) else "")


def host_list(waitlist: Waitlist, restaurant: Restaurant) -> HostList:
    now = waitlist.clock()
    rows = [host_row(restaurant, p, now) for p in waitlist.list_parties(restaurant)]
    finished = [finished_row(restaurant, p, now)
                for p in sorted(waitlist.list_parties(restaurant, "finished"),
                                key=lambda p: p.finished_at or p.seated_at or 0, reverse=True)]
    return HostList(rows=rows, finished=finished)


def quote_text(waitlist: Waitlist, restaurant: Restaurant, party_size: int) -> str:
    estimate = waitlist.estimate(restaurant, party_size)
    return quote_range_text(estimate.low, estimate.high)


def nudge(waitlist: Waitlist, restaurant: Restaurant, party_id: str, step: int) -> None:
    """Move a waiting party one place up (step -1) or down (+1)."""
    party = waitlist.party(restaurant, party_id)
    if party.position is None:
        return
    waitlist.move(restaurant, party_id, max(1, party.position + step))


@dataclass(frozen=True)
class MessageRow:
    incoming: bool
    body: str
    at: str
    status: str


def message_rows(restaurant: Restaurant, messages: list[dict[str, str]]) -> list[MessageRow]:
    return [MessageRow(incoming=m.get("direction") == "in", body=m.get("body", ""),
                       at=clock_text(restaurant, float(m["created_at"])) if m.get("created_at") else "",
                       status=m.get("status", "")) for m in messages]
