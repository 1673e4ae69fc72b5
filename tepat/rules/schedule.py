"""Working-hours schedules: dated policy versions of who works when.

A `Schedule` version is one regulation's answer, in force from `valid_from` to `valid_until`
(both included). When a Perbup changes the hours (teachers' check-out moving from 16:00 to
14:00) a new version is added; the old one keeps answering for the days it covered, so a past
month is always judged by the hours in force then. `schedule_version_for` picks the version for
a day and refuses version lists with overlaps or gaps.

A schedule is either a weekly pattern (one `Shift` or None per weekday, with other patterns for
special periods such as Ramadan), or a roster (RSUD, puskesmas), where each working day comes
from a dated `ScheduleOverride`, the same record that carries a per-employee exception.

Each `Shift` has a start and end (an end at or before the start means the next day: a night
shift 21:00-07:00) and a presence window: a punch counts for the shift only from
`check_in_from` until `check_out_until`. Both are clock times, anchored to the shift: the window
opens at the last `check_in_from` at or before the start and closes at the first
`check_out_until` at or after the end. So a night shift 21:00-07:00 with window 18:00-14:00 takes
punches from 18:00 on its own day to 14:00 the next day, and the 07:00 punch that morning closes
it rather than opening anything.

The example policies at the bottom are labelled with their source. They are examples of shapes
for the demo and the tests; the regency's own versions live in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise

from tepat.rules.calendar import WEEKDAY_NAMES, DayInfo, WorkCalendar
from tepat.rules.formatting import format_day as _dmy

DAYS_IN_WEEK = 7
_ONE_DAY = timedelta(days=1)
_ALL_DAYS = frozenset(range(DAYS_IN_WEEK))


class ScheduleError(ValueError):
    """A schedule that cannot be used. `message` is Indonesian, for the BKPSDM admin screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Shift:
    code: str
    name: str
    """Indonesian label, e.g. "Jam kantor" or "Shift malam"."""
    start: time
    end: time
    """At or before `start` means the shift ends the next day."""
    check_in_from: time
    check_out_until: time
    break_minutes: int = 0
    """Rest time inside the shift (Perpres 21/2023: 60 min, Friday 90 min), for effective hours."""

    def __post_init__(self) -> None:
        for t in (self.start, self.end, self.check_in_from, self.check_out_until):
            if t.tzinfo is not None:
                raise ScheduleError(f"Jam pada {self.name} harus jam lokal tanpa zona waktu")
        if self.start == self.end:
            raise ScheduleError(f"{self.name}: jam mulai dan jam selesai sama ({_hm(self.start)})")
        if not 0 <= self.break_minutes < self.duration // timedelta(minutes=1):
            raise ScheduleError(f"{self.name}: lama istirahat tidak valid ({self.break_minutes})")

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    @property
    def duration(self) -> timedelta:
        day = date(2000, 1, 3)
        end_day = day + _ONE_DAY if self.crosses_midnight else day
        return datetime.combine(end_day, self.end) - datetime.combine(day, self.start)

    @property
    def effective_minutes(self) -> int:
        return self.duration // timedelta(minutes=1) - self.break_minutes

    @property
    def hours_label(self) -> str:
        """ "07:30–16:00" (a night shift "21:00–07:00" ends the next day)."""
        return f"{_hm(self.start)}–{_hm(self.end)}"

    def on(self, day: date, tz: tzinfo) -> ShiftInstance:
        """This shift placed on `day` (the day it starts) in the site's zone."""
        return _shift_on(self, day, tz)

    def _on(self, day: date, tz: tzinfo) -> ShiftInstance:
        start = datetime.combine(day, self.start, tzinfo=tz)
        end = datetime.combine(day + _ONE_DAY if self.crosses_midnight else day, self.end, tz)
        opens = datetime.combine(day, self.check_in_from, tzinfo=tz)
        if opens.replace(tzinfo=None) > start.replace(tzinfo=None):
            opens -= _ONE_DAY
        closes = datetime.combine(end.date(), self.check_out_until, tzinfo=tz)
        if closes.replace(tzinfo=None) < end.replace(tzinfo=None):
            closes += _ONE_DAY
        return ShiftInstance(day=day, shift=self, start=start, end=end, opens=opens, closes=closes)


@lru_cache(maxsize=4096)
def _shift_on(shift: Shift, day: date, tz: tzinfo) -> ShiftInstance:
    # A whole province shares a handful of shifts and zones on a day: place each once. The
    # instance is immutable, so handing out the same one is safe.
    return shift._on(day, tz)


@dataclass(frozen=True)
class ShiftInstance:
    """A shift on a given day: aware start, end and presence window (both ends included)."""

    day: date
    shift: Shift
    start: datetime
    end: datetime
    opens: datetime
    closes: datetime

    def window_contains(self, moment: datetime) -> bool:
        return self.opens <= moment <= self.closes


Week = tuple[Shift | None, ...]
"""Seven entries, Monday first; None is a day off."""


@dataclass(frozen=True)
class PeriodWeek:
    """The week used instead of the regular one during a calendar period (e.g. "ramadan")."""

    period: str
    week: Week
    legal_basis: str


@dataclass(frozen=True)
class Schedule:
    """One version of a schedule. Versions of the same schedule share `code`."""

    code: str
    name: str
    valid_from: date
    valid_until: date | None
    legal_basis: str
    week: Week = (None,) * DAYS_IN_WEEK
    period_weeks: tuple[PeriodWeek, ...] = ()
    roster: bool = False
    """Working days come only from roster entries (`ScheduleOverride`), not from `week`."""
    observes_holidays: bool = True
    """False for rosters that run through holidays (RSUD): the roster alone decides."""
    shifts: tuple[Shift, ...] = ()
    """The shifts a roster may assign (looked up by code)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "week", tuple(self.week))
        object.__setattr__(self, "period_weeks", tuple(self.period_weeks))
        object.__setattr__(self, "shifts", tuple(self.shifts))
        _check_week(self.week, self.name)
        for period_week in self.period_weeks:
            _check_week(period_week.week, f"{self.name} ({period_week.period})")
        periods = [p.period for p in self.period_weeks]
        if len(set(periods)) != len(periods):
            raise ScheduleError(f"{self.name}: pola jam untuk satu periode tercatat dua kali")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ScheduleError(
                f"{self.name}: berlaku sampai {_dmy(self.valid_until)} sebelum berlaku mulai "
                f"{_dmy(self.valid_from)}"
            )
        has_hours = any(shift is not None for shift in self.week)
        if self.roster and has_hours:
            raise ScheduleError(f"{self.name}: jadwal shift tidak memakai pola mingguan")
        if self.roster and not self.shifts:
            raise ScheduleError(f"{self.name}: jadwal shift belum memiliki daftar shift")
        if not self.roster and not has_hours:
            raise ScheduleError(f"{self.name}: tidak ada hari kerja dalam seminggu")
        codes = [s.code for s in self.shifts]
        if len(set(codes)) != len(codes):
            raise ScheduleError(f"{self.name}: kode shift ganda")

    @property
    def workdays(self) -> frozenset[int]:
        """Weekdays (0 = Monday) of the regular week; every day for a roster."""
        if self.roster:
            return _ALL_DAYS
        return frozenset(i for i, shift in enumerate(self.week) if shift is not None)

    def week_for(self, period: str | None) -> Week:
        for period_week in self.period_weeks:
            if period_week.period == period:
                return period_week.week
        return self.week

    def shift_on(self, day: date, period: str | None) -> Shift | None:
        """The hours this schedule sets for `day` (None for a roster: the roster decides)."""
        if self.roster:
            return None
        return self.week_for(period)[day.weekday()]

    def shift(self, code: str) -> Shift:
        for shift in (*self.shifts, *(s for s in self.week if s is not None)):
            if shift.code == code:
                return shift
        raise ScheduleError(f"{self.name}: shift {code} tidak dikenal")

    def weekly_effective_minutes(self, period: str | None = None) -> int:
        return sum(s.effective_minutes for s in self.week_for(period) if s is not None)

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


@dataclass(frozen=True)
class ScheduleOverride:
    """A dated per-employee exception, or one roster entry. `shift` None is a day off."""

    day: date
    shift: Shift | None
    reason: str
    """Indonesian, shown in the explanation, e.g. "Jadwal dinas RSUD Agustus 2026"."""


def validate_schedule_versions(versions: Sequence[Schedule]) -> tuple[Schedule, ...]:
    """The versions in date order; ScheduleError if they overlap, leave a gap, or mix schedules."""
    if not versions:
        raise ScheduleError("Belum ada versi jadwal kerja")
    codes = sorted({v.code for v in versions})
    if len(codes) > 1:
        raise ScheduleError(
            f"Versi jadwal harus dari jadwal yang sama (ditemukan: {', '.join(codes)})"
        )
    ordered = tuple(sorted(versions, key=lambda v: v.valid_from))
    for earlier, later in pairwise(ordered):
        if earlier.valid_until is None or later.valid_from <= earlier.valid_until:
            until = "seterusnya" if earlier.valid_until is None else _dmy(earlier.valid_until)
            raise ScheduleError(
                f"Versi jadwal {earlier.name} (berlaku {_dmy(earlier.valid_from)} s.d. {until}) "
                f"bertumpang tindih dengan versi {later.name} (berlaku mulai "
                f"{_dmy(later.valid_from)})"
            )
        if later.valid_from > earlier.valid_until + _ONE_DAY:
            raise ScheduleError(
                f"Ada celah antara versi jadwal {earlier.name} (berlaku s.d. "
                f"{_dmy(earlier.valid_until)}) dan {later.name} (berlaku mulai "
                f"{_dmy(later.valid_from)}): tanggal {_dmy(earlier.valid_until + _ONE_DAY)} s.d. "
                f"{_dmy(later.valid_from - _ONE_DAY)} tidak berjadwal"
            )
    return ordered


def schedule_version_for(versions: Sequence[Schedule], day: date) -> Schedule:
    """The version in force on `day`; ScheduleError if none is, or the versions are invalid."""
    single = len(versions) == 1  # the common case: nothing to check between versions
    for version in versions if single else validate_schedule_versions(versions):
        if version.in_force_on(day):
            return version
    raise ScheduleError(f"Tidak ada jadwal {versions[0].name} yang berlaku pada {_dmy(day)}")


def calendar_day(calendar: WorkCalendar, schedule: Schedule, day: date) -> DayInfo:
    """What the calendar says about `day` for this schedule's weekdays and holiday rule."""
    return calendar.day_kind(
        day, workdays=schedule.workdays, holidays_apply=schedule.observes_holidays
    )


def week_label(week: Week) -> str:
    """ "Senin–Kamis 07:30–16:00, Jumat 07:30–16:30": consecutive equal days grouped."""
    parts: list[str] = []
    i = 0
    while i < DAYS_IN_WEEK:
        shift = week[i]
        j = i
        while j + 1 < DAYS_IN_WEEK and week[j + 1] == shift:
            j += 1
        if shift is not None:
            days = WEEKDAY_NAMES[i] if i == j else f"{WEEKDAY_NAMES[i]}–{WEEKDAY_NAMES[j]}"
            parts.append(f"{days} {shift.hours_label}")
        i = j + 1
    return ", ".join(parts)


def _check_week(week: Week, name: str) -> None:
    if len(week) != DAYS_IN_WEEK:
        raise ScheduleError(f"{name}: pola mingguan harus berisi 7 hari (Senin s.d. Minggu)")


def _hm(t: time) -> str:
    return f"{t:%H:%M}"


# --- Example policies -----------------------------------------------------------------------
#
# Numbers that a regulation sets, each with its source (docs: /work/shared/domain/rules.md §8).
# The daily hours are set by the PPK (the bupati); the ones below are examples of shapes.

PERPRES_21_2023 = "Perpres 21/2023 tentang Hari Kerja dan Jam Kerja Instansi Pemerintah"

# Perpres 21/2023 is in force from its promulgation; rules.md §8.1 dates its one-year transition
# deadline (Pasal 13) at 12 Apr 2024, hence 12 Apr 2023 (DERIVED, check the JDIH text).
PERPRES_21_2023_FROM = date(2023, 4, 12)


def _day_window_shift(code: str, name: str, start: time, end: time, *, break_minutes: int) -> Shift:
    """A day shift whose presence window is 05:00 to 23:59:59.

    EXAMPLE window, Tepat's default; regencies differ (ANRI Perban 18/2016: no check-in before
    06:00, no check-out after 18:00; Sukoharjo Perbup 31/2018: check-in 06:30–07:00).
    """
    return Shift(
        code=code,
        name=name,
        start=start,
        end=end,
        check_in_from=time(5, 0),
        check_out_until=time(23, 59, 59),
        break_minutes=break_minutes,
    )


def _week(
    mon_thu: Shift | None, fri: Shift | None, sat: Shift | None = None, sun: Shift | None = None
) -> Week:
    return (mon_thu, mon_thu, mon_thu, mon_thu, fri, sat, sun)


def office_five_day_week(*, valid_from: date = PERPRES_21_2023_FROM) -> Schedule:
    """5-day office week: Mon–Thu 07:30–16:00 (break 60), Fri 07:30–16:30 (break 90).

    37 h 30 min effective per week and start 07:30 (Perpres 21/2023; the daily split as in
    ANRI Perban 18/2016). Ramadan: 32 h 30 min per week, start 08:00, Friday break 60 min
    (Perpres 21/2023); the daily split Mon–Thu 08:00–15:00 (break 30), Fri 08:00–15:30
    (break 60) is the usual MenPANRB circular shape, an example to confirm per year.
    """
    return Schedule(
        code="kantor_5_hari",
        name="Kantor 5 hari kerja",
        valid_from=valid_from,
        valid_until=None,
        legal_basis=(
            f"{PERPRES_21_2023}: 37 jam 30 menit per minggu, masuk 07:30, istirahat 60 menit "
            "(Jumat 90 menit); contoh pembagian harian Perban ANRI 18/2016"
        ),
        week=_week(
            _day_window_shift("SEN_KAM", "Jam kantor", time(7, 30), time(16, 0), break_minutes=60),
            _day_window_shift("JUMAT", "Jam kantor", time(7, 30), time(16, 30), break_minutes=90),
        ),
        period_weeks=(
            PeriodWeek(
                period="ramadan",
                week=_week(
                    _day_window_shift(
                        "RAMADAN_SEN_KAM",
                        "Jam kerja Ramadan",
                        time(8, 0),
                        time(15, 0),
                        break_minutes=30,
                    ),
                    _day_window_shift(
                        "RAMADAN_JUMAT",
                        "Jam kerja Ramadan",
                        time(8, 0),
                        time(15, 30),
                        break_minutes=60,
                    ),
                ),
                legal_basis=(
                    f"{PERPRES_21_2023}: bulan Ramadan 32 jam 30 menit per minggu, masuk 08:00, "
                    "istirahat Jumat 60 menit; pembagian harian contoh"
                ),
            ),
        ),
    )


def office_six_day_week(*, valid_from: date = date(2018, 1, 1)) -> Schedule:
    """6-day week: Mon–Thu 07:30–14:30, Fri 07:30–11:00, Sat 07:30–13:30.

    Kab. Penajam Paser Utara, as reported by jpnn.com in 2018 (rules.md §8.2); predates
    Perpres 21/2023, which gave 6-day instansi until 12 Apr 2024 to move to 5 days.
    """
    return Schedule(
        code="kantor_6_hari",
        name="Kantor 6 hari kerja",
        valid_from=valid_from,
        valid_until=None,
        legal_basis="Contoh Kab. Penajam Paser Utara (jpnn.com, 2018): 6 hari kerja",
        week=_week(
            _day_window_shift("SEN_KAM", "Jam kantor", time(7, 30), time(14, 30), break_minutes=0),
            _day_window_shift("JUMAT", "Jam kantor", time(7, 30), time(11, 0), break_minutes=0),
            _day_window_shift("SABTU", "Jam kantor", time(7, 30), time(13, 30), break_minutes=0),
        ),
    )


TEACHERS_CHECKOUT_CHANGE = date(2026, 7, 13)
"""EXAMPLE: the first day of school year 2026/2027, when the fictional Perbup below moves
teachers' check-out from 16:00 to 14:00."""


def teacher_schedules() -> tuple[Schedule, Schedule]:
    """Two versions of the teachers' school-day schedule, Mon–Fri, check-in by 07:00.

    EXAMPLE (fictional Perbup numbers): until 12-07-2026 teachers check out at 16:00 with the
    structural staff (the Garut rule, rules.md §8.3); from 13-07-2026 they check out at 14:00
    when school ends (the Kotim rule, Perbup Kotawaringin Timur 16/2018).
    """
    before = _day_window_shift("GURU_16", "Jam sekolah", time(7, 0), time(16, 0), break_minutes=60)
    after = _day_window_shift("GURU_14", "Jam sekolah", time(7, 0), time(14, 0), break_minutes=0)
    return (
        Schedule(
            code="guru",
            name="Guru (pulang 16:00)",
            valid_from=date(2025, 7, 14),
            valid_until=TEACHERS_CHECKOUT_CHANGE - _ONE_DAY,
            legal_basis="CONTOH Perbup (fiktif) 10/2025: guru pulang pukul 16:00",
            week=_week(before, before),
        ),
        Schedule(
            code="guru",
            name="Guru (pulang 14:00)",
            valid_from=TEACHERS_CHECKOUT_CHANGE,
            valid_until=None,
            legal_basis="CONTOH Perbup (fiktif) 7/2026: guru pulang pukul 14:00",
            week=_week(after, after),
        ),
    )


def rsud_shift_roster(*, valid_from: date = date(2024, 1, 1)) -> Schedule:
    """RSUD three-shift roster: PAGI 07:00–14:00, SIANG 14:00–21:00, MALAM 21:00–07:00.

    EXAMPLE. Units giving direct public service set their own working days (Perpres 21/2023
    Pasal 7 ayat 1). The night shift takes punches until 14:00 the next day, the cut-off a
    hospital HRIS uses to close the previous night (rules.md §8.4).
    """

    def shift(code: str, name: str, start: time, end: time, opens: time, closes: time) -> Shift:
        return Shift(
            code=code, name=name, start=start, end=end, check_in_from=opens, check_out_until=closes
        )

    return Schedule(
        code="rsud_shift",
        name="Shift RSUD",
        valid_from=valid_from,
        valid_until=None,
        legal_basis=(
            f"CONTOH pola shift RSUD; hari kerja unit pelayanan langsung: {PERPRES_21_2023} "
            "Pasal 7 ayat (1)"
        ),
        roster=True,
        observes_holidays=False,
        shifts=(
            shift("PAGI", "Shift pagi", time(7, 0), time(14, 0), time(5, 0), time(23, 59, 59)),
            shift("SIANG", "Shift siang", time(14, 0), time(21, 0), time(12, 0), time(2, 0)),
            shift("MALAM", "Shift malam", time(21, 0), time(7, 0), time(18, 0), time(14, 0)),
        ),
    )


def shift_instances(overrides: Iterable[ScheduleOverride], tz: tzinfo) -> tuple[ShiftInstance, ...]:
    """The concrete shifts of a run of roster entries, in time order (days off skipped)."""
    return tuple(
        sorted(
            (o.shift.on(o.day, tz) for o in overrides if o.shift is not None),
            key=lambda i: (i.start, i.day),
        )
    )
