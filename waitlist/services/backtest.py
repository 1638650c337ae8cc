"""Replay a restaurant's history through the live service code and score the quotes it would have given.

``flask --app wsgi estimate backtest EVENTS.csv --out QUOTES.csv [--tables 2:6,4:8,6:2]``

The replay drives the real ``Waitlist`` service and ``Store`` (same Lua scripts, same estimator) over an
in-process fakeredis, with a clock set to each event's time, so no Redis server is needed and the quotes
are exactly what the live service would have texted. Each join is quoted by ``Waitlist.join`` before the
party is added, from the events before it.
"""
from __future__ import annotations

import csv
import logging
import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

import click
import fakeredis
from fakeredis import FakeRedis
from flask.cli import AppGroup

from config import Config
from waitlist.domain.errors import WaitlistError
from waitlist.domain.model import Restaurant, Settings, join_problem, parse_join
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store

EPOCH = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
"""t = 0 of a replay: midnight UTC on a Monday, so hour-of-week history lines up with the days."""

EVENT_KINDS = ("join", "notify", "seat", "complete", "cancel", "no_show")
"""``notify`` (the host called the party: its table is ready) is optional: a log without it replays as
before, and one with it puts the called parties at the head of the line, as the live service does."""
SLUG = "backtest"


@dataclass(frozen=True)
class Event:
    t: float
    event: str
    party: str
    size: int


@dataclass(frozen=True)
class Quote:
    party: str
    size: int
    t: float
    quote_minutes: int
    low: int = 0
    high: int = 0
    """The range the party was told (the quote when no range was given)."""
    raw: str = ""
    """The model's figure before self-calibration and the parties ahead, as stored ("12.5/7")."""


@dataclass(frozen=True)
class Accuracy:
    label: str
    scored: int
    mae: float
    within_five: float
    under_quoted: float
    covered: float
    """Share whose wait fell inside the range they were told (low to high)."""


class _NoDispatch:
    """Texts and timers are not sent in a replay: the events file says what happened."""

    def send_texts(self, slug: str, message_ids: Iterable[str]) -> None:
        pass

    def expire_hold_at(self, slug: str, party_id: str, hold_version: str, at: float) -> None:
        pass

    def feedback_at(self, slug: str, party_id: str, at: float) -> None:
        pass

    def expire_pending_at(self, slug: str, party_id: str, at: float) -> None:
        pass

    def reservation_timer_at(self, slug: str, reservation_id: str, kind: str, version: str, at: float) -> None:
        pass

    def send_mail(self, to: str, subject: str, body: str) -> None:
        pass


class _Clock:
    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> float:
        return self.now


def parse_tables(text: str | None) -> dict[str, int] | None:
    """"2:6,4:8,6:2" -> {"2": 6, "4": 8, "6": 2}."""
    if not text:
        return None
    tables: dict[str, int] = {}
    for item in text.split(","):
        seats, _, count = item.strip().partition(":")
        if not seats.isdigit() or not count.isdigit():
            raise click.BadParameter(f"expected SEATS:COUNT pairs like 2:6,4:8, got {item!r}")
        tables[str(int(seats))] = tables.get(str(int(seats)), 0) + int(count)
    return tables


def parse_joins(text: str | None, tables: dict[str, int] | None) -> list[str] | None:
    """"4+4=8" (comma-separated for more): the host pushes two 4-tops together for parties of up to 8
    (those bigger than every table, or, beside an 8-top, its parties when it is taken). It becomes the
    restaurant's ``joins`` setting, so the estimator replays such a party as one that needs two 4-tops (it
    waits for both, and keeps both busy while it dines).

    A join that is not written so is refused. One the setting would refuse (tables of two sizes, more
    tables than ``--tables`` has, seating fewer than the biggest table and as many as none) is left out
    with a note on stderr, so a file of joins written for another tool or inventory still replays.
    Without ``--tables`` the joins apply to the tables read off the log, as in the live service."""
    if not text:
        return None
    settings = Settings(tables=tables)
    joins = []
    for item in (part.strip() for part in text.split(",")):
        try:
            parse_join(item)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        problem = join_problem(item, settings)
        if problem:
            print(f"--joins {item}: left out ({problem})", file=sys.stderr)
        else:
            joins.append(item)
    return joins or None


def read_events(stream: Iterable[str]) -> list[Event]:
    """EVENTS.csv, in time order. Only a join needs its size; a log that leaves it blank on the party's
    later rows (its seating, its leaving) reads as well."""
    events = []
    for line, row in enumerate(csv.DictReader(stream), start=2):
        try:
            kind, size = row["event"].strip(), (row["size"] or "").strip()
            if not size and kind != "join":
                size = "0"
            event = Event(float(row["t"]), kind, row["party"].strip(), int(size))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a short row's missing cells are None
            raise click.BadParameter(f"line {line}: expected columns t,event,party,size ({exc})") from None
        if event.event not in EVENT_KINDS:
            raise click.BadParameter(f"line {line}: unknown event {event.event!r}")
        events.append(event)
    events.sort(key=lambda e: e.t)  # stable: same-second events keep their file order
    return events


def replay(events: Sequence[Event], tables: dict[str, int] | None = None, joins: str | None = None) -> list[Quote]:
    """The quote the live service would have given at each join, in join order. ``joins``: see
    ``parse_joins``."""
    clock = _Clock()
    waitlist, restaurant, _redis = replay_service(tables, clock, parse_joins(joins, tables))
    ids: dict[str, str] = {}
    quotes: list[Quote] = []
    for n, event in enumerate(events):
        clock.now = EPOCH + event.t
        try:
            quote = replay_event(waitlist, restaurant, event, n, ids)
            if quote is not None:
                quotes.append(quote)
        except WaitlistError as exc:
            print(f"t={event.t:g} {event.event} {event.party}: skipped ({exc.message})", file=sys.stderr)
    return quotes


def replay_service(tables: dict[str, int] | None, clock: _Clock,
                   joins: list[str] | None = None) -> tuple[Waitlist, Restaurant, FakeRedis]:
    """The live service over a fresh in-process fakeredis, on ``clock``, with the one restaurant a replay
    quotes for (``tables`` its inventory, ``joins`` the tables it pushes together)."""
    logging.getLogger("waitlist").setLevel(logging.WARNING)  # one log line per event would drown the table
    redis = fakeredis.FakeRedis(decode_responses=True)
    config = Config(secret_key="backtest", public_base_url="http://backtest.invalid")
    waitlist = Waitlist(Store(redis), MessageStore(redis), _NoDispatch(), config, clock=clock)
    restaurant, _key = waitlist.create_restaurant(SLUG, "Backtest", "+14155550100")
    restaurant.settings = waitlist.update_settings(restaurant, {"tables": tables, "joins": joins,
                                                                "max_party_size": 100})
    return waitlist, restaurant, redis


def replay_event(waitlist: Waitlist, restaurant: Restaurant, event: Event, n: int,
                 ids: dict[str, str]) -> Quote | None:
    """One event through the live service: a join (the ``n``-th event) adds the party, notes its id in
    ``ids`` and answers the quote it was given; a later event of a party in ``ids`` (notify, seat,
    complete, no_show, cancel) is applied to it; any other is ignored."""
    if event.event == "join":
        party = waitlist.join(restaurant, name=f"Party {event.party}"[:60], phone=_phone(n),
                              party_size=event.size, actor="backtest")
        ids[event.party] = party.id
        minutes = party.quote_minutes or 0
        return Quote(event.party, event.size, event.t, minutes,
                     minutes if party.quote_low is None else party.quote_low,
                     minutes if party.quote_high is None else party.quote_high, party.quote_raw or "")
    party_id = ids.get(event.party)
    if party_id is None:
        return None
    if event.event == "cancel":
        waitlist.cancel(restaurant, party_id, actor="backtest", confirm=False)
    else:
        {"notify": waitlist.notify, "seat": waitlist.seat, "complete": waitlist.complete,
         "no_show": waitlist.no_show}[event.event](
            restaurant, party_id, actor="backtest")
    return None


def _phone(n: int) -> str:
    """A distinct valid US number per join (a party's number is free again once it leaves)."""
    return f"+1415{2000000 + n % 7_000_000:07d}"


def actual_waits(events: Iterable[Event]) -> dict[str, float]:
    """Minutes from join to seat, for parties that were seated."""
    joined: dict[str, float] = {}
    waits: dict[str, float] = {}
    for event in events:
        if event.event == "join":
            joined[event.party] = event.t
        elif event.event == "seat" and event.party in joined:
            waits[event.party] = (event.t - joined[event.party]) / 60.0
    return waits


def score(label: str, pairs: Sequence[tuple[float, float]],
          ranges: Sequence[tuple[float, float]] | None = None) -> Accuracy:
    """Accuracy of (quote, actual wait) pairs: MAE, share within 5 minutes, share waiting > quote + 5,
    and with ``ranges`` (low, high told, one per pair) the share whose wait fell inside."""
    if not pairs:
        return Accuracy(label, 0, float("nan"), float("nan"), float("nan"), float("nan"))
    errors = [abs(q - w) for q, w in pairs]
    return Accuracy(
        label=label,
        scored=len(pairs),
        mae=statistics.fmean(errors),
        within_five=sum(e <= 5 for e in errors) / len(pairs),
        under_quoted=sum(w > q + 5 for q, w in pairs) / len(pairs),
        covered=(sum(low <= w <= high for (low, high), (_q, w) in zip(ranges, pairs)) / len(pairs)
                 if ranges is not None else float("nan")),
    )


def accuracy(events: Sequence[Event], quotes: Sequence[Quote]) -> list[Accuracy]:
    """Overall, then by party size; only parties that were seated after actually waiting are scored."""
    waits = actual_waits(events)
    scored = [(q, waits[q.party]) for q in quotes if waits.get(q.party, 0) > 0]
    def scored_as(label: str, group: list[tuple[Quote, float]]) -> Accuracy:
        return score(label, [(q.quote_minutes, w) for q, w in group], [(q.low, q.high) for q, _w in group])

    rows = [scored_as("all", scored)]
    for size in sorted({q.size for q, _w in scored}):
        rows.append(scored_as(f"size {size}", [(q, w) for q, w in scored if q.size == size]))
    return rows


def write_quotes(out: TextIO, quotes: Iterable[Quote], with_range: bool = False) -> None:
    """QUOTES.csv: party and quote_minutes; with ``with_range``, the low and high the party was told too
    (columns after those two, so a reader of the two-column file reads this one as well)."""
    writer = csv.writer(out)
    writer.writerow(["party", "quote_minutes", *(["low", "high"] if with_range else [])])
    for quote in quotes:
        writer.writerow([quote.party, quote.quote_minutes, *([quote.low, quote.high] if with_range else [])])


def accuracy_table(rows: Iterable[Accuracy]) -> str:
    lines = ["| parties | scored | MAE (min) | within ±5 min | under-quoted | range covered |",
             "|---|---:|---:|---:|---:|---:|"]
    def shown(value: float, form: str) -> str:
        return "—" if math.isnan(value) else format(value, form)  # nothing scored: no figure, not "nan"

    for row in rows:
        lines.append(f"| {row.label} | {row.scored} | {shown(row.mae, '.1f')} | {shown(row.within_five, '.0%')} "
                     f"| {shown(row.under_quoted, '.0%')} | {shown(row.covered, '.0%')} |")
    return "\n".join(lines)


estimate_cli = AppGroup("estimate", help="Check wait quotes against a restaurant's history.")


@estimate_cli.command("backtest")
@click.argument("events_csv", type=click.File("r"))
@click.option("--out", "out", type=click.File("w"), required=True, help="QUOTES.csv to write")
@click.option("--tables", default=None, help="table inventory, e.g. 2:6,4:8,6:2")
@click.option("--joins", default=None, help="tables pushed together for big parties, e.g. 4+4=8")
@click.option("--with-range", is_flag=True, help="also write the low and high of the range each party was told")
def backtest(events_csv: TextIO, out: TextIO, tables: str | None, joins: str | None, with_range: bool) -> None:
    """Replay EVENTS_CSV (t,event,party,size) and write the quote given at each join."""
    events = read_events(events_csv)
    quotes = replay(events, parse_tables(tables), joins)
    write_quotes(out, quotes, with_range)
    click.echo(f"{len(quotes)} quotes written. Scored: parties seated after waiting more than 0 minutes.")
    click.echo(accuracy_table(accuracy(events, quotes)))
