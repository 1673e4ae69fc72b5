"""The punches a day is judged on when a person's own plan puts a shift next to another: the
same split for the nightly verdict and the live dashboard (`tepat.presence.day_punches`)."""

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from tepat.presence.day_punches import day_punches, shifts_around
from tepat.rules.calendar import WorkCalendar
from tepat.rules.schedule import ScheduleOverride, rsud_shift_roster
from tepat.rules.verdict import AttendanceEvent

WIB = ZoneInfo("Asia/Jakarta")
SUNDAY = date(2026, 11, 22)
MONDAY = date(2026, 11, 23)
ROSTER = rsud_shift_roster()
CALENDAR = WorkCalendar(kind="office", years=frozenset({2026}))


def _punch(day: date, hour: int, minute: int, kind: Literal["in", "out"]) -> AttendanceEvent:
    return AttendanceEvent(
        datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB), kind, "pwa"
    )


NIGHT_IN = _punch(SUNDAY, 20, 50, "in")
NIGHT_OUT = _punch(MONDAY, 7, 5, "out")
MORNING_IN = _punch(MONDAY, 7, 20, "in")
PUNCHES = [NIGHT_IN, NIGHT_OUT, MORNING_IN]


def _planned(**shifts: str | None) -> dict[date, ScheduleOverride]:
    days = {"sunday": SUNDAY, "monday": MONDAY}
    return {
        days[name]: ScheduleOverride(days[name], ROSTER.shift(code) if code else None, "IGD")
        for name, code in shifts.items()
    }


def test_the_morning_check_out_closes_the_night_and_the_check_in_opens_the_morning() -> None:
    planned = _planned(sunday="MALAM", monday="PAGI")
    assert day_punches(SUNDAY, PUNCHES, planned, ROSTER, CALENDAR, WIB) == [NIGHT_IN, NIGHT_OUT]
    assert day_punches(MONDAY, PUNCHES, planned, ROSTER, CALENDAR, WIB) == [MORNING_IN]


def test_with_a_day_off_before_nothing_competes_for_the_punches() -> None:
    planned = _planned(sunday=None, monday="PAGI")
    assert shifts_around(MONDAY, planned, ROSTER, CALENDAR)[SUNDAY] is None
    assert day_punches(MONDAY, PUNCHES, planned, ROSTER, CALENDAR, WIB) == PUNCHES
