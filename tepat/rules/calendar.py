"""The work calendar: which dates are working days, and which special period a date falls in.

A `WorkCalendar` is plain, dated data:

* national days: *libur nasional* and *cuti bersama* (SKB 3 Menteri and the yearly Keppres on
  cuti bersama ASN). `national_days_from_holidays` reads them from the `holidays` package, which
  keeps the two apart by category: "public" holds the libur nasional, "government" holds the
  cuti bersama, each named "Cuti Bersama <holiday>";
* regency days off (*libur daerah*, e.g. the regency's anniversary) and regency cancellations
  that turn a libur nasional or cuti bersama back into a working day (e.g. a Surat Edaran Bupati
  keeping public services open), each with its legal basis;
* school holidays, which only calendars of kind "school" observe;
* special periods (Ramadan working hours) that make a schedule pick other hours.

The calendar only knows dates; a schedule says which weekdays are worked, so `day_kind` takes
the weekday pattern from the schedule in force. Years that were not loaded raise
`CalendarError` instead of quietly reading as working days.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from types import MappingProxyType
from typing import Literal, TypeVar, get_args

import holidays
from holidays.version import __version__ as _HOLIDAYS_VERSION

from tepat.rules.formatting import format_day as _dmy

CalendarKind = Literal["office", "school"]
NationalCategory = Literal["libur_nasional", "cuti_bersama"]

WEEKDAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
"""Indonesian weekday names, indexed like `date.weekday()` (0 = Monday)."""

_ESTIMATED_MARK = "(perkiraan)"
_PACKAGE_CATEGORIES: tuple[tuple[NationalCategory, str], ...] = (
    ("libur_nasional", "public"),
    ("cuti_bersama", "government"),
)
_CUTI_BERSAMA_PREFIX = "Cuti Bersama "


class CalendarError(ValueError):
    """Calendar data that cannot be used, or a date it does not cover. `message` is Indonesian."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NationalDay:
    day: date
    name: str
    """The holiday's Indonesian name, e.g. "Hari Raya Idul Fitri" (also for a cuti bersama)."""
    category: NationalCategory
    legal_basis: str
    estimated: bool = False
    """The date is the package's estimate (an Islamic date not yet fixed by the government)."""


@dataclass(frozen=True)
class RegencyDayOff:
    """A *libur daerah* set by the regency on top of the national days."""

    day: date
    name: str
    legal_basis: str


@dataclass(frozen=True)
class RegencyCancellation:
    """The regency keeps a libur nasional or cuti bersama as a working day."""

    day: date
    name: str
    """Why, in Indonesian, e.g. "Pelayanan publik tetap buka"."""
    legal_basis: str


@dataclass(frozen=True)
class SchoolHoliday:
    """School holiday (first_day..last_day inclusive); only "school" calendars observe it."""

    first_day: date
    last_day: date
    name: str
    legal_basis: str


@dataclass(frozen=True)
class SpecialPeriod:
    """A dated period in which schedules use other hours, e.g. code "ramadan"."""

    code: str
    name: str
    first_day: date
    last_day: date
    legal_basis: str


@dataclass(frozen=True)
class DayInfo:
    day: date
    is_working_day: bool
    reason: str | None
    """Why the day is not a working day ("Libur nasional: …", "Cuti bersama: …",
    "Libur daerah: …", "Libur sekolah: …", "Akhir pekan"), or why a holiday became a working
    day ("Hari kerja: cuti bersama … dibatalkan oleh Pemkab (…)"). None for an ordinary
    working day."""
    period: str | None
    """The code of the special period the day falls in (e.g. "ramadan"), if any."""
    period_name: str | None = None
    """That period's name, e.g. "Ramadan 1447 H"."""


@dataclass(frozen=True, eq=False)
class WorkCalendar:
    """One calendar (office or school) for the years in `years`."""

    kind: CalendarKind
    years: frozenset[int]
    national_days: tuple[NationalDay, ...] = ()
    regency_days_off: tuple[RegencyDayOff, ...] = ()
    cancellations: tuple[RegencyCancellation, ...] = ()
    school_holidays: tuple[SchoolHoliday, ...] = ()
    periods: tuple[SpecialPeriod, ...] = ()
    _national: Mapping[date, NationalDay] = field(init=False, repr=False)
    _days_off: Mapping[date, RegencyDayOff] = field(init=False, repr=False)
    _cancelled: Mapping[date, RegencyCancellation] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in get_args(CalendarKind):
            raise CalendarError(f"Jenis kalender tidak dikenal: {self.kind!r}")
        for name in (
            "national_days",
            "regency_days_off",
            "cancellations",
            "school_holidays",
            "periods",
        ):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "years", frozenset(self.years))

        national: dict[date, NationalDay] = {}
        for entry in sorted(self.national_days, key=_national_order):
            self._check_loaded(entry.day, "Hari libur nasional")
            # A date that is both (never seen so far) keeps the libur nasional.
            national.setdefault(entry.day, entry)
        days_off = _unique_by_day(self.regency_days_off, "Libur daerah")
        cancelled = _unique_by_day(self.cancellations, "Pembatalan libur")
        for day in days_off:
            self._check_loaded(day, "Libur daerah")
        for day in cancelled:
            if day not in national:
                raise CalendarError(
                    f"Pembatalan libur pada {_dmy(day)} tidak berlaku: tanggal itu bukan "
                    "libur nasional atau cuti bersama"
                )
        _check_ranges(
            [(h.first_day, h.last_day, f"Libur sekolah {h.name}") for h in self.school_holidays],
            overlap_allowed=True,
        )
        _check_ranges(
            [(p.first_day, p.last_day, f"Periode {p.name}") for p in self.periods],
            overlap_allowed=False,
        )
        object.__setattr__(self, "_national", MappingProxyType(national))
        object.__setattr__(self, "_days_off", MappingProxyType(days_off))
        object.__setattr__(self, "_cancelled", MappingProxyType(cancelled))

    def _check_loaded(self, day: date, what: str) -> None:
        if day.year not in self.years:
            raise CalendarError(f"{what} {_dmy(day)} di luar tahun kalender yang dimuat")

    def period_on(self, day: date) -> SpecialPeriod | None:
        for period in self.periods:
            if period.first_day <= day <= period.last_day:
                return period
        return None

    def day_kind(
        self, day: date, *, workdays: Collection[int], holidays_apply: bool = True
    ) -> DayInfo:
        """Classify `day` for a schedule that works on `workdays` (0 = Monday … 6 = Sunday).

        With `holidays_apply` False (shift rosters, e.g. an RSUD), national days, regency days
        off and school holidays are not days off: the roster alone decides. Precedence for the
        reason shown: libur nasional, cuti bersama, libur daerah, libur sekolah, akhir pekan.
        """
        if day.year not in self.years:
            raise CalendarError(f"Kalender kerja tahun {day.year} belum dimuat")
        period = self.period_on(day)
        code = period.code if period is not None else None
        period_name = period.name if period is not None else None
        reasons: list[str] = []
        worked_despite: str | None = None
        if holidays_apply:
            national = self._national.get(day)
            cancellation = self._cancelled.get(day)
            if national is not None and cancellation is not None:
                label = (
                    "libur nasional" if national.category == "libur_nasional" else "cuti bersama"
                )
                worked_despite = (
                    f"Hari kerja: {label} {national.name} dibatalkan oleh Pemkab "
                    f"({cancellation.name}; {cancellation.legal_basis})"
                )
            elif national is not None:
                reasons.append(_national_reason(national))
            day_off = self._days_off.get(day)
            if day_off is not None:
                reasons.append(f"Libur daerah: {day_off.name}")
            if self.kind == "school":
                reasons.extend(
                    f"Libur sekolah: {h.name}"
                    for h in self.school_holidays
                    if h.first_day <= day <= h.last_day
                )
        if day.weekday() not in workdays:
            reasons.append("Akhir pekan")
        if reasons:
            return DayInfo(
                day=day,
                is_working_day=False,
                reason=reasons[0],
                period=code,
                period_name=period_name,
            )
        return DayInfo(
            day=day,
            is_working_day=True,
            reason=worked_despite,
            period=code,
            period_name=period_name,
        )


def national_days_from_holidays(years: Iterable[int]) -> tuple[NationalDay, ...]:
    """Libur nasional and cuti bersama for `years`, as the `holidays` package knows them.

    The package (vacanza/holidays) files Indonesian libur nasional under the "public" category
    and cuti bersama under "government", named "Cuti Bersama <holiday>". The two categories are
    read separately, so the category never has to be guessed from the name. Islamic dates the
    government has not fixed yet carry "(perkiraan)" in their name and `estimated=True`: the
    regency must confirm them against the SKB before the month is paid.
    """
    wanted = sorted(set(years))
    found: list[NationalDay] = []
    for category, package_category in _PACKAGE_CATEGORIES:
        days = holidays.country_holidays(
            "ID", years=wanted, categories=(package_category,), language="id"
        )
        for day, names in sorted(days.items()):
            for raw in names.split("; "):
                name = raw.removeprefix(_CUTI_BERSAMA_PREFIX) if category == "cuti_bersama" else raw
                estimated = _ESTIMATED_MARK in name
                name = name.replace(_ESTIMATED_MARK, "").strip()
                found.append(
                    NationalDay(
                        day=day,
                        name=name,
                        category=category,
                        legal_basis=_package_legal_basis(category, day.year),
                        estimated=estimated,
                    )
                )
    return tuple(sorted(found, key=_national_order))


def _package_legal_basis(category: str, year: int) -> str:
    source = f"data paket python-holidays {_HOLIDAYS_VERSION}"
    if category == "cuti_bersama":
        return f"Keppres cuti bersama ASN tahun {year} ({source})"
    return f"SKB 3 Menteri hari libur nasional tahun {year} ({source})"


def _national_reason(entry: NationalDay) -> str:
    label = "Libur nasional" if entry.category == "libur_nasional" else "Cuti bersama"
    return f"{label}: {entry.name}"


def _national_order(entry: NationalDay) -> tuple[date, int, str]:
    return (entry.day, 0 if entry.category == "libur_nasional" else 1, entry.name)


_ByDay = TypeVar("_ByDay", RegencyDayOff, RegencyCancellation)


def _unique_by_day(entries: Iterable[_ByDay], what: str) -> dict[date, _ByDay]:
    by_day: dict[date, _ByDay] = {}
    for entry in entries:
        if entry.day in by_day:
            raise CalendarError(f"{what} pada {_dmy(entry.day)} tercatat lebih dari sekali")
        by_day[entry.day] = entry
    return by_day


def _check_ranges(ranges: list[tuple[date, date, str]], *, overlap_allowed: bool) -> None:
    ordered = sorted(ranges)
    for first, last, what in ordered:
        if last < first:
            raise CalendarError(f"{what}: tanggal akhir {_dmy(last)} sebelum {_dmy(first)}")
    if overlap_allowed:
        return
    for (_, last, what), (first, _, other) in pairwise(ordered):
        if first <= last:
            raise CalendarError(f"{what} dan {other} bertumpang tindih pada {_dmy(first)}")
