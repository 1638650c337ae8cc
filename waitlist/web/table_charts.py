"""The owner's table charts and CSV: turn time by table size and by hour, and occupancy by hour.

The numbers are ``OwnerStats.tables`` (folded from the table events, waitlist.domain.table_stats); each
chart carries the same numbers as a table under it, and the CSV has every one of them.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from waitlist.web.charts import BOTTOM, LEFT, Chart, H, fmt, nice_max, nice_percent_max, pct, slots, ticks, y_at

CSV_COLUMNS = ("breakdown", "value", "turns", "mean_turn_minutes", "occupancy")
"""One row per table size (breakdown ``table_seats``) and per local hour (``hour``); occupancy only by hour."""


def has_tables(numbers: dict[str, Any]) -> bool:
    """Whether there is anything to show: a named floor now, or turns recorded in these days."""
    return bool(numbers.get("floor_seats") or numbers.get("turns_by_seats"))


def _bars(chart: Chart, items: list[tuple[str, float | None]], top: float, labels: list[str]) -> None:
    left, slot = slots(len(items))
    for i, ((key, value), label) in enumerate(zip(items, labels)):
        x = left + i * slot
        if value is not None:
            y = y_at(value, top)
            chart.bars.append({"x": round(x + slot * 0.2, 1), "y": y, "w": round(slot * 0.6, 1),
                               "h": round(H - BOTTOM - y, 1), "cls": "bar-a", "label": label})
        chart.x_labels.append({"x": round(x + slot / 2, 1), "text": key})


def turns_by_size_chart(numbers: dict[str, Any]) -> Chart:
    """Average turn (occupied to cleared) of each table size."""
    sizes = numbers["turns_by_seats"]
    chart = Chart("turns-by-size", "Table turn time by table size",
                  "Average minutes a table was occupied, from seating to clearing, by the table's seats.",
                  legend=[{"cls": "bar-a", "text": "average turn (min)"}],
                  table_head=["Table seats", "Turns", "Average turn"])
    if not sizes:
        chart.empty = True
        return chart
    top, step = nice_max(max([s["mean_minutes"] or 0 for s in sizes.values()] + [1]))
    chart.y_ticks = ticks(top, step, LEFT - 6)
    items = [(seats, s["mean_minutes"]) for seats, s in sizes.items()]
    _bars(chart, items, top, [f"{seats}-seat tables: {fmt(s['mean_minutes'], ' min')} average over {s['turns']} turns"
                              for seats, s in sizes.items()])
    chart.table = [[seats, str(s["turns"]), fmt(s["mean_minutes"], " min")] for seats, s in sizes.items()]
    return chart


def _hours(*maps: dict[str, Any]) -> list[int]:
    found = {int(hour) for m in maps for hour in m}
    return list(range(min(found), max(found) + 1)) if found else []


def turns_by_hour_chart(numbers: dict[str, Any]) -> Chart:
    """Average turn of the tables seated in each local hour: slow turns at the peak cost covers."""
    by_hour = numbers["turns_by_hour"]
    chart = Chart("turns-by-hour", "Table turn time by hour",
                  "Average minutes a table was occupied, by the hour it was seated.",
                  legend=[{"cls": "bar-a", "text": "average turn (min)"}],
                  table_head=["Hour seated", "Turns", "Average turn"])
    hours = _hours(by_hour)
    if not hours:
        chart.empty = True
        return chart
    top, step = nice_max(max([h["mean_minutes"] or 0 for h in by_hour.values()] + [1]))
    chart.y_ticks = ticks(top, step, LEFT - 6)
    rows = [(f"{hour:02d}", by_hour.get(str(hour), {"turns": 0, "mean_minutes": None})) for hour in hours]
    _bars(chart, [(key if len(hours) <= 16 or int(key) % 2 == 0 else "", h["mean_minutes"]) for key, h in rows], top,
          [f"{key}:00 — {fmt(h['mean_minutes'], ' min')} average over {h['turns']} turns" for key, h in rows])
    chart.table = [[f"{key}:00", str(h["turns"]), fmt(h["mean_minutes"], " min")] for key, h in rows if h["turns"]]
    return chart


def occupancy_chart(numbers: dict[str, Any]) -> Chart:
    """The share of the floor's seats in use in each local hour, over every day of the range."""
    shares = {hour: share for hour, share in numbers["occupancy_by_hour"].items() if share is not None}
    chart = Chart("occupancy", "Occupancy by hour",
                  f"Share of the floor's {numbers['floor_seats']} seats in use in each hour, averaged over the "
                  f"{_days(numbers.get('days_with_turns'))} of these dates on which tables turned (a party of 3 at "
                  "a 4-seat table uses 4 seats).",
                  legend=[{"cls": "bar-b", "text": "seats in use"}],
                  table_head=["Hour", "Seats in use"])
    hours = _hours(shares)
    if not hours:
        chart.empty = True
        return chart
    top, step = nice_percent_max(max(max(shares.values()), 0.1))
    chart.y_ticks = ticks(top, step, LEFT - 6, "{:.0%}")
    rows = [(f"{hour:02d}", shares.get(str(hour))) for hour in hours]
    _bars(chart, [(key if len(hours) <= 16 or int(key) % 2 == 0 else "", share) for key, share in rows], top,
          [f"{key}:00 — {pct(share)} of seats in use" for key, share in rows])
    for bar in chart.bars:
        bar["cls"] = "bar-b"
    chart.table = [[f"{key}:00", pct(share)] for key, share in rows if share is not None]
    return chart


def _days(n: int | None) -> str:
    return "days" if n is None else "day" if n == 1 else f"{n} days"


def charts(numbers: dict[str, Any]) -> list[Chart]:
    return [turns_by_size_chart(numbers), turns_by_hour_chart(numbers), occupancy_chart(numbers)]


def csv_rows(numbers: dict[str, Any]) -> Iterator[list[str]]:
    """Every number behind the charts: turns and average turn by table size, then by hour with occupancy."""
    for seats, s in numbers["turns_by_seats"].items():
        yield ["table_seats", seats, str(s["turns"]), _plain(s["mean_minutes"]), ""]
    by_hour, shares = numbers["turns_by_hour"], numbers["occupancy_by_hour"]
    for hour in _hours(by_hour, {h: v for h, v in shares.items() if v is not None}):
        turn = by_hour.get(str(hour), {"turns": 0, "mean_minutes": None})
        yield ["hour", f"{hour:02d}", str(turn["turns"]), _plain(turn["mean_minutes"]), _plain(shares.get(str(hour)))]


def _plain(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def csv_text(numbers: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(numbers))
    return out.getvalue()
