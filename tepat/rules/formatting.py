"""Indonesian number formatting for user-facing messages: "1.234,5", "850 m", "1,2 km"."""

from __future__ import annotations

import math
from datetime import date

_TO_INDONESIAN = str.maketrans({",": ".", ".": ","})


def format_number(value: float, decimals: int = 0) -> str:
    """Group thousands with "." and use "," as the decimal mark: 12345.67 -> "12.345,7"."""
    if not math.isfinite(value):
        raise ValueError(f"cannot format {value!r}")
    return f"{value:,.{decimals}f}".translate(_TO_INDONESIAN)


def format_distance(metres: float, *, round_up: bool = False) -> str:
    """Whole metres below 1 km ("850 m"), else km with one decimal ("1,2 km", "1.234,5 km").

    With `round_up`, metres are rounded up, so a position just outside a limit never reads as
    on it ("101 m; batas 100 m", not "100 m; batas 100 m") and never as "0 m" away. Kilometres
    are always rounded to the nearest 100 m.
    """
    if not math.isfinite(metres) or metres < 0:
        raise ValueError(f"cannot format a distance of {metres!r} m")
    whole_metres = math.ceil(metres) if round_up else math.floor(metres + 0.5)
    if whole_metres < 1000:
        return f"{whole_metres} m"
    tenths_of_km = math.floor(metres / 100 + 0.5)
    return f"{format_number(tenths_of_km / 10, 1)} km"


def format_day(day: date) -> str:
    """A date the way Indonesian letters print it in tables: "05-11-2026"."""
    return f"{day:%d-%m-%Y}"
