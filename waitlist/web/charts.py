"""Chart geometry for the owner's server-rendered SVG charts (owner_chart.html): every position is computed
here, every label formatted, so the template only draws and the page needs no script."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

W, H = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 16, 34


@dataclass
class Chart:
    """Everything an SVG template needs: positions already computed, labels already formatted."""

    id: str
    title: str
    caption: str
    bars: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    dots: list[dict[str, Any]] = field(default_factory=list)
    x_labels: list[dict[str, Any]] = field(default_factory=list)
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    y2_ticks: list[dict[str, Any]] = field(default_factory=list)
    legend: list[dict[str, str]] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    empty: bool = False
    width: int = W
    height: int = H
    plot: dict[str, float] = field(default_factory=lambda: {"left": LEFT, "right": W - RIGHT, "top": TOP,
                                                            "bottom": H - BOTTOM})


def nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum at or above ``value`` and its tick step (4-5 ticks)."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step), step


def nice_percent_max(value: float) -> tuple[float, float]:
    """``nice_max`` for a share (0.08 is 8%): whole-percent ticks (0% 5% 10%, 0% 25% ... 100%), never
    above 100%. Steps like 2.5% would print as 3% / 5% / 8% once rounded to whole percents."""
    percent = min(max(value, 0.0), 1.0) * 100
    if percent <= 0:
        return 0.1, 0.05
    raw = percent / 4
    power = 10 ** max(0, math.floor(math.log10(raw)))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw and (m * power) % 1 == 0)
    return min(100.0, step * math.ceil(percent / step)) / 100, step / 100


def ticks(top: float, step: float, x: float, fmt: str = "{:g}") -> list[dict[str, Any]]:
    """Ticks at 0, step, 2 step ... top; each value is counted, not summed, so 0.05 * 3 prints 15%."""
    count = int(round(top / step)) if step else 0
    values = [round(i * step, 6) for i in range(count + 1)]
    return [{"y": y_at(value, top), "x": x, "text": fmt.format(value)} for value in values]


def y_at(value: float, top: float) -> float:
    span = H - BOTTOM - TOP
    return round(H - BOTTOM - (value / top) * span, 1) if top else H - BOTTOM


def slots(n: int) -> tuple[float, float]:
    """Left edge of slot 0 and the slot width for n evenly spaced categories."""
    width = (W - LEFT - RIGHT) / max(1, n)
    return LEFT, width


def fmt(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:g}{unit}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100):d}%"
