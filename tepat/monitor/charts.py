"""Line charts drawn on the server as inline SVG: no chart library, no script, and only SVG
presentation attributes (the strict CSP forbids style attributes). This module computes the
geometry; ``monitor/_line_chart.html`` draws it, and the page puts the numbers in a table next
to it for screen readers and for reading exact values."""

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: Sequence[int | None]
    """One per x label; None where there is nothing to draw yet (a month still to come)."""
    colour: str
    dash: str = ""
    """A stroke-dasharray, so the lines differ without colour too."""


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    label: str


@dataclass(frozen=True)
class DrawnSeries:
    series: Series
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    lines: tuple[DrawnSeries, ...]


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n at or above ``value`` (at least 4, so 4 grid steps)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step * 4 >= value:
                return m * step * 4
        step *= 10


def line_chart(x_labels: Sequence[str], series: Sequence[Series]) -> LineChart:
    top = _nice_ceiling(max((v or 0 for s in series for v in s.values), default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    count = max(len(x_labels) - 1, 1)

    def x_at(i: int) -> float:
        return LEFT + plot_w * i / count

    def y_at(v: int) -> float:
        return TOP + plot_h * (1 - v / top)

    grid = [top * k // 4 for k in range(5)]  # top is a multiple of 4
    lines = tuple(
        DrawnSeries(
            s,
            tuple(
                Point(x_at(i), y_at(v), v, x_labels[i])
                for i, v in enumerate(s.values)
                if v is not None
            ),
        )
        for s in series
    )
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
        x_ticks=tuple(Tick(x_at(i), label) for i, label in enumerate(x_labels)),
        y_ticks=tuple(Tick(y_at(v), f"{v:,}".replace(",", ".")) for v in grid),
        lines=lines,
    )
