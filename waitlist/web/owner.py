"""The owner's view: the stats API, the visits CSV and the dashboard at /owner/{slug}.

The dashboard signs in with the same staff key and the same session as the host stand (it reuses the
host stand's session check), and draws its charts as server-rendered SVG: no script, so the page's
content security policy needs no exception.
"""
from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta
from typing import Any

import click
from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from waitlist.domain import reservation_stats, visits
from waitlist.domain.errors import InvalidInput, Unauthorized, WaitlistError
from waitlist.domain.model import Restaurant
from waitlist.services.owner_stats import OwnerStats
from waitlist.web import api, table_charts
from waitlist.web.auth import require_role
from waitlist.web.charts import (
    BOTTOM,
    LEFT,
    RIGHT,
    Chart,
    H,
    W,
    fmt,
    nice_max,
    nice_percent_max,
    pct,
    slots,
    ticks,
    y_at,
)
from waitlist.web.cli import restaurant_cli
from waitlist.web.forms import back_to, check_csrf
from waitlist.web.host import sign_in_page, signed_in, start_session

api_bp = Blueprint("owner_api", __name__, url_prefix="/api/v1/restaurants/<slug>")
bp = Blueprint("owner", __name__, url_prefix="/owner/<slug>")

FLAGGED_SHOWN = 20
RANGES = ((7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year"))


def owner_stats() -> OwnerStats:
    """The one OwnerStats the app factory built."""
    return current_app.extensions["owner_stats"]  # type: ignore[no-any-return]


def _range(restaurant: Restaurant) -> tuple[str, str]:
    return owner_stats().date_range(restaurant, request.args.get("from") or None, request.args.get("to") or None)


# --- the API (staff key) ------------------------------------------------------------------------------

@api_bp.get("/stats")
def stats_json(slug: str) -> Any:
    """Per-day and total numbers for ?from=YYYY-MM-DD&to=YYYY-MM-DD (the restaurant's service days);
    ?breakdown=1 / 0 forces each day's hour and party-size breakdown on or off."""
    restaurant = api.staff(slug)
    refuse_unknown("from", "to", "breakdown")
    first, last = _range(restaurant)
    flag = request.args.get("breakdown")
    return jsonify(owner_stats().report(restaurant, first, last, None if flag is None else flag == "1"))


@api_bp.get("/visits.csv")
def visits_csv_api(slug: str) -> Any:
    """Visits kept for the last retention_days; phone numbers masked unless include_phone=1."""
    restaurant = api.staff(slug)
    refuse_unknown("from", "to", "include_phone")
    return visits_csv(restaurant)


def refuse_unknown(*allowed: str) -> None:
    """A misspelt ?form= must not silently answer the default range, as elsewhere in the API."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise InvalidInput("unknown query parameters", fields={name: ["Unknown field."] for name in unknown})


def visits_csv(restaurant: Restaurant) -> Response:
    first, last = _range(restaurant)
    include_phone = request.args.get("include_phone") == "1"
    zone = owner_stats().zone(restaurant)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(visits.VISIT_COLUMNS)
    for day, visit in owner_stats().visits(restaurant, first, last):
        writer.writerow(visits.visit_row(day, visit, zone, include_phone))
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="visits-{restaurant.slug}-{first}-{last}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the dashboard (staff session) ---------------------------------------------------------------------

@bp.after_request
def _never_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_request
def _forms_carry_the_csrf_token() -> None:
    if request.method == "POST":
        check_csrf()


@bp.get("")
def dashboard(slug: str) -> Any:
    """Charts of the chosen service days, low ratings to follow up, and the CSV export."""
    restaurant = signed_in(slug)
    if restaurant is None:
        return back_to("owner.sign_in_form", slug=slug)
    first, last = _range(restaurant)
    service = owner_stats()
    data = service.report(restaurant, first, last, breakdown=False)
    flagged = visits.low_ratings(service.visits(restaurant, first, last))
    tables = service.tables(restaurant, first, last)
    return render_template("owner.html", restaurant=restaurant, data=data, first=first, last=last,
                           today=service.today(restaurant), ranges=quick_ranges(service.today(restaurant)),
                           charts=charts(data), flagged=flagged[:FLAGGED_SHOWN], flagged_total=len(flagged),
                           zone=service.zone(restaurant),
                           table_charts=table_charts.charts(tables) if table_charts.has_tables(tables) else [],
                           retention_days=restaurant.settings.retention_days)


@bp.get("/visits.csv")
def visits_csv_page(slug: str) -> Any:
    restaurant = signed_in(slug)
    if restaurant is None:
        raise Unauthorized("please sign in first")
    return visits_csv(restaurant)


@bp.get("/reservations.csv")
@require_role("manager")
def reservations_csv_page(slug: str) -> Any:
    """Per day: covers by source (walk-in, remote join, reservation), bookings, cancels, no-shows, their
    rates and the mean lead time (waitlist.domain.reservation_stats)."""
    restaurant: Restaurant = g.restaurant
    first, last = _range(restaurant)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(reservation_stats.CSV_HEADER)
    writer.writerows(reservation_stats.csv_rows(owner_stats().report(restaurant, first, last, False)["days"]))
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="reservations-{restaurant.slug}-{first}-{last}.csv"'
    return response


@bp.get("/tables.csv")
@require_role("manager")
def tables_csv_page(slug: str) -> Any:
    """The numbers behind the table charts: turns and average turn by table size and by hour, occupancy."""
    restaurant: Restaurant = g.restaurant
    first, last = _range(restaurant)
    response = Response(table_charts.csv_text(owner_stats().tables(restaurant, first, last)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="tables-{restaurant.slug}-{first}-{last}.csv"'
    return response


@bp.get("/signin")
def sign_in_form(slug: str) -> Any:
    return sign_in_page(slug, "Owner's view sign-in", "owner")


@bp.post("/signin")
def sign_in(slug: str) -> Any:
    """The host stand's sign-in, landing on the dashboard: one session serves both pages."""
    return start_session(slug, "Owner's view sign-in", "owner")


def quick_ranges(today: str) -> list[dict[str, str]]:
    end = date.fromisoformat(today)
    return [{"label": label, "from": (end - timedelta(days=n - 1)).isoformat(), "to": today} for n, label in RANGES]


# --- charts (geometry in waitlist/web/charts.py) ------------------------------------------------------

def hourly_chart(total: dict[str, Any]) -> Chart:
    """Parties joined by hour (bars) and their mean wait (line, right axis): the peaks."""
    joined = total["parties"]["joined_by_hour"]
    waits = total["wait"]["by_hour"]
    hours = sorted({int(h) for h in joined} | {int(h) for h in waits})
    chart = Chart("by-hour", "Parties and average wait by hour",
                  "Bars: parties that joined in each hour. Line: their average wait in minutes (right axis).",
                  legend=[{"cls": "bar-a", "text": "parties joined"}, {"cls": "line-b", "text": "average wait (min)"}],
                  table_head=["Hour", "Parties", "Average wait", "Median", "90th percentile"])
    if not hours:
        chart.empty = True
        return chart
    hours = list(range(min(hours), max(hours) + 1))
    top, step = nice_max(max([joined.get(f"{h:02d}", 0) for h in hours] + [1]))
    wtop, wstep = nice_max(max([(waits.get(f"{h:02d}", {}).get("mean") or 0) for h in hours] + [1]))
    chart.y_ticks = ticks(top, step, LEFT - 6)
    chart.y2_ticks = ticks(wtop, wstep, W - RIGHT + 6)
    left, slot = slots(len(hours))
    points = []
    for i, hour in enumerate(hours):
        key = f"{hour:02d}"
        count = joined.get(key, 0)
        wait = waits.get(key, {})
        x = left + i * slot
        y = y_at(count, top)
        chart.bars.append({"x": round(x + slot * 0.15, 1), "y": y, "w": round(slot * 0.7, 1),
                           "h": round(H - BOTTOM - y, 1), "cls": "bar-a",
                           "label": f"{key}:00 — {count} parties, average wait {fmt(wait.get('mean'), ' min')}"})
        if wait.get("mean") is not None:
            px, py = round(x + slot / 2, 1), y_at(wait["mean"], wtop)
            points.append(f"{px},{py}")
            chart.dots.append({"cx": px, "cy": py, "cls": "dot-b", "label": f"{key}:00 — average wait "
                                                                             f"{fmt(wait['mean'], ' min')}"})
        chart.x_labels.append({"x": round(x + slot / 2, 1), "text": key if len(hours) <= 16 or hour % 2 == 0 else ""})
        chart.table.append([f"{key}:00", str(count), fmt(wait.get("mean"), " min"), fmt(wait.get("median"), " min"),
                            fmt(wait.get("p90"), " min")])
    if len(points) > 1:
        chart.lines.append({"points": " ".join(points), "cls": "line-b"})
    return chart


def size_chart(total: dict[str, Any]) -> Chart:
    """Median wait by party size, with a whisker up to the 90th percentile."""
    sizes = total["wait"]["by_size"]
    chart = Chart("by-size", "Wait by party size",
                  "Bars: median wait in minutes. Whiskers: 90th percentile (one party in ten waited longer).",
                  legend=[{"cls": "bar-a", "text": "median wait"}, {"cls": "whisker", "text": "90th percentile"}],
                  table_head=["Party size", "Seated", "Median", "Average", "90th percentile"])
    if not sizes:
        chart.empty = True
        return chart
    top, step = nice_max(max([(s.get("p90") or 0) for s in sizes.values()] + [1]))
    chart.y_ticks = ticks(top, step, LEFT - 6)
    left, slot = slots(len(sizes))
    for i, (size, wait) in enumerate(sizes.items()):
        x = left + i * slot
        median = wait.get("median") or 0
        y = y_at(median, top)
        label = f"party of {size}: median {fmt(wait.get('median'), ' min')}, 90th percentile " \
                f"{fmt(wait.get('p90'), ' min')} ({wait['n']} seated)"
        chart.bars.append({"x": round(x + slot * 0.2, 1), "y": y, "w": round(slot * 0.6, 1),
                           "h": round(H - BOTTOM - y, 1), "cls": "bar-a", "label": label})
        if wait.get("p90") is not None:
            cx = round(x + slot / 2, 1)
            chart.lines.append({"points": f"{cx},{y} {cx},{y_at(wait['p90'], top)}", "cls": "whisker"})
            chart.lines.append({"points": f"{round(cx - slot * 0.12, 1)},{y_at(wait['p90'], top)} "
                                          f"{round(cx + slot * 0.12, 1)},{y_at(wait['p90'], top)}", "cls": "whisker"})
        chart.x_labels.append({"x": round(x + slot / 2, 1), "text": size})
        chart.table.append([size, str(wait["n"]), fmt(wait.get("median"), " min"), fmt(wait.get("mean"), " min"),
                            fmt(wait.get("p90"), " min")])
    return chart


def _day_label(day: str, n: int, i: int) -> str:
    every = max(1, math.ceil(n / 10))
    return date.fromisoformat(day).strftime("%b %-d") if i % every == 0 else ""


def _line_chart(chart: Chart, days: list[dict[str, Any]], series: list[tuple[str, Any]], top: float, step: float,
                fmt: Any) -> Chart:
    """Lines over the days; a day without data breaks the line rather than drawing a fake zero."""
    chart.y_ticks = ticks(top, step, LEFT - 6, "{:g}" if fmt is not pct else "{:.0%}")
    left, slot = slots(len(days))
    for cls, getter in series:
        run: list[str] = []
        for i, day in enumerate(days):
            value = getter(day)
            x = round(left + i * slot + slot / 2, 1)
            if value is None:
                if len(run) > 1:
                    chart.lines.append({"points": " ".join(run), "cls": cls})
                run = []
                continue
            y = y_at(value, top)
            run.append(f"{x},{y}")
            chart.dots.append({"cx": x, "cy": y, "cls": cls.replace("line", "dot"),
                               "label": f"{day['date']}: {fmt(value)}"})
        if len(run) > 1:
            chart.lines.append({"points": " ".join(run), "cls": cls})
    chart.x_labels = [{"x": round(left + i * slot + slot / 2, 1), "text": _day_label(d["date"], len(days), i)}
                      for i, d in enumerate(days)]
    return chart


def quote_chart(data: dict[str, Any]) -> Chart:
    days = data["days"]
    chart = Chart("quotes", "Quoted vs actual wait",
                  "Average wait we quoted and average wait seated guests actually had, day by day (minutes).",
                  legend=[{"cls": "line-a", "text": "quoted"}, {"cls": "line-b", "text": "actual"}],
                  table_head=["Day", "Seated with a quote", "Quoted", "Actual", "Within ±5 min"])
    values = [d["quote"][k] for d in days for k in ("mean_quoted", "mean_waited") if d["quote"][k] is not None]
    if not values:
        chart.empty = True
        return chart
    top, step = nice_max(max(values))
    _line_chart(chart, days, [("line-a", lambda d: d["quote"]["mean_quoted"]),
                              ("line-b", lambda d: d["quote"]["mean_waited"])], top, step,
                lambda v: f"{v:g} min")
    chart.table = [[d["date"], str(d["quote"]["n"]), fmt(d["quote"]["mean_quoted"], " min"),
                    fmt(d["quote"]["mean_waited"], " min"), pct(d["quote"]["within_5_min"])]
                   for d in days if d["quote"]["n"]]
    return chart


def rates_chart(data: dict[str, Any]) -> Chart:
    days = data["days"]
    chart = Chart("rates", "No-show and cancel rates",
                  "Share of the parties that left the list each day who never came when called (no-show) or "
                  "were removed (cancelled).",
                  legend=[{"cls": "line-c", "text": "no-show rate"}, {"cls": "line-a", "text": "cancel rate"}],
                  table_head=["Day", "Left the list", "Seated", "No-shows", "Cancelled"])
    values = [d["parties"][k] for d in days for k in ("no_show_rate", "cancel_rate") if d["parties"][k] is not None]
    if not values:
        chart.empty = True
        return chart
    top, step = nice_percent_max(max(max(values), 0.1))
    _line_chart(chart, days, [("line-c", lambda d: d["parties"]["no_show_rate"]),
                              ("line-a", lambda d: d["parties"]["cancel_rate"])], top, step, pct)
    chart.table = [[d["date"], str(d["parties"]["finished"]), str(d["parties"]["seated"]),
                    f"{d['parties']['no_shows']} ({pct(d['parties']['no_show_rate'])})",
                    f"{d['parties']['cancelled']} ({pct(d['parties']['cancel_rate'])})"]
                   for d in days if d["parties"]["finished"]]
    return chart


def charts(data: dict[str, Any]) -> list[Chart]:
    return [hourly_chart(data["total"]), size_chart(data["total"]), quote_chart(data), rates_chart(data)]


# --- forgetting a guest: `flask --app wsgi restaurant forget PHONE` -------------------------------------

@restaurant_cli.command("forget")
@click.argument("phone")
def forget(phone: str) -> None:
    """Erase one guest's data (parties, texts, visit records, latches) in every restaurant."""
    import json
    import sys

    try:
        result = owner_stats().forget(phone)
    except WaitlistError as exc:
        click.echo(json.dumps({"error": {"code": exc.code, "message": exc.message}}), err=True)
        sys.exit(1)
    click.echo(json.dumps(result, indent=2))

