"""The daily verdict (H, TL1–4, PSW1–4, TK, LIBUR, leave…) derived from the ledger.

Fetch-then-calculate: gather the day's events, the schedule version and bands in force, and
the calendar into plain values, hand them to ``tepat.rules.verdict.classify_day``, and store
the result with the versions that produced it. A day is rebuilt whenever something that
feeds it arrives late (an offline phone, a machine backlog, a review decision).
"""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from tepat.audit.services import audit_record
from tepat.org.models import Employee, ScheduleGroup, Unit
from tepat.org.selectors import employee_sites
from tepat.org.services import assignment_on
from tepat.presence.models import (
    AttendanceDay,
    BandsVersion,
    CalendarEntry,
    CheckinEvent,
    CheckinReview,
    ScheduleVersion,
)
from tepat.rules import calendar as cal
from tepat.rules import verdict
from tepat.rules.schedule import Schedule, ScheduleError, calendar_day, validate_schedule_versions
from tepat.rules.schedule_data import bands_from_data, schedule_from_data

EventKind = Literal["in", "out"]

# --- Policy data: saved only through these, so what is stored always validates ------------


@transaction.atomic
def schedule_version_save(
    *, actor: Any, group: ScheduleGroup, definition: dict[str, Any]
) -> ScheduleVersion:
    """Add a schedule version; refused when it does not validate or overlaps another."""
    try:
        schedule = schedule_from_data(definition)
        others = [
            schedule_from_data(v.definition)
            for v in ScheduleVersion.objects.filter(group=group).exclude(
                valid_from=schedule.valid_from
            )
        ]
        validate_schedule_versions([*others, schedule])
    except ScheduleError as exc:
        raise ValidationError(exc.message) from None
    version, _ = ScheduleVersion.objects.update_or_create(
        group=group,
        valid_from=schedule.valid_from,
        defaults={
            "valid_until": schedule.valid_until,
            "name": schedule.name,
            "legal_basis": schedule.legal_basis,
            "definition": definition,
        },
    )
    audit_record(actor=actor, action="schedule.save", obj=version, after=definition)
    return version


@transaction.atomic
def bands_version_save(*, actor: Any, definition: dict[str, Any]) -> BandsVersion:
    try:
        bands = bands_from_data(definition)
    except verdict.BandsError as exc:
        raise ValidationError(exc.message) from None
    version, _ = BandsVersion.objects.update_or_create(
        valid_from=bands.valid_from,
        defaults={"name": bands.name, "legal_basis": bands.legal_basis, "definition": definition},
    )
    audit_record(actor=actor, action="bands.save", obj=version, after=definition)
    return version


# --- Reading the inputs ---------------------------------------------------------------------


@lru_cache(maxsize=8)
def _national_days(year: int) -> tuple[cal.NationalDay, ...]:
    # The holidays package computes these; they do not change while the process runs.
    return cal.national_days_from_holidays([year])


def work_calendar(kind: cal.CalendarKind, day: date) -> cal.WorkCalendar:
    """National days plus the regency's own entries, for the year around ``day``."""
    years = frozenset({day.year - 1, day.year, day.year + 1})
    entries = CalendarEntry.objects.filter(
        first_day__lte=date(day.year + 1, 12, 31), last_day__gte=date(day.year - 1, 1, 1)
    )
    by_kind: dict[str, list[CalendarEntry]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry)

    def days(e: CalendarEntry) -> list[date]:
        return [e.first_day + timedelta(n) for n in range((e.last_day - e.first_day).days + 1)]

    K = CalendarEntry.Kind
    return cal.WorkCalendar(
        kind=kind,
        years=years,
        national_days=tuple(d for y in sorted(years) for d in _national_days(y)),
        regency_days_off=tuple(
            cal.RegencyDayOff(d, e.name, e.legal_basis)
            for e in by_kind.get(K.DAY_OFF, [])
            for d in days(e)
        ),
        cancellations=tuple(
            cal.RegencyCancellation(d, e.name, e.legal_basis)
            for e in by_kind.get(K.CANCELLATION, [])
            for d in days(e)
        ),
        school_holidays=tuple(
            cal.SchoolHoliday(e.first_day, e.last_day, e.name, e.legal_basis)
            for e in by_kind.get(K.SCHOOL_HOLIDAY, [])
        ),
        periods=tuple(
            cal.SpecialPeriod(e.code or "periode", e.name, e.first_day, e.last_day, e.legal_basis)
            for e in by_kind.get(K.PERIOD, [])
        ),
    )


def _counted_events(
    employee: Employee, start: datetime, end: datetime
) -> list[verdict.AttendanceEvent]:
    """Accepted events, and flagged ones a reviewer accepted; refused ones never count."""
    accepted_review = CheckinReview.objects.filter(event=OuterRef("pk"), decision="accept")
    rows = CheckinEvent.objects.filter(
        employee=employee, taken_at__gte=start, taken_at__lt=end
    ).filter(Q(status=CheckinEvent.Status.ACCEPTED) | Q(Exists(accepted_review)))
    return [
        verdict.AttendanceEvent(taken_at=e.taken_at, kind=cast(EventKind, e.kind), source=e.source)
        for e in rows
    ]


def _bands_in_force(day: date) -> tuple[BandsVersion | None, verdict.LatenessBands]:
    version = BandsVersion.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    if version is None:
        return None, verdict.kaur_2022_bands()
    return version, bands_from_data(version.definition)


def _schedule_in_force(group_id: int | None, day: date) -> tuple[ScheduleVersion, Schedule] | None:
    if group_id is None:
        return None
    version = (
        ScheduleVersion.objects.filter(group_id=group_id, valid_from__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .order_by("-valid_from")
        .first()
    )
    return None if version is None else (version, schedule_from_data(version.definition))


# --- The verdict ----------------------------------------------------------------------------


def attendance_day_rebuild(employee: Employee, day: date) -> AttendanceDay | None:
    """Recompute and store one employee's verdict for one day (None: no schedule applies)."""
    assignment = assignment_on(employee, day)
    if assignment is None:
        return None
    found = _schedule_in_force(assignment.schedule_group_id, day)
    if found is None:
        return None
    version, schedule = found
    sites = employee_sites(employee, day)
    tz = ZoneInfo(sites[0].timezone if sites else timezone.get_current_timezone_name())
    kind: cal.CalendarKind = "school" if assignment.unit.kind == Unit.Kind.SEKOLAH else "office"
    info = calendar_day(work_calendar(kind, day), schedule, day)
    # A night shift's punches fall on the next morning: read a window around the day.
    start = datetime.combine(day - timedelta(days=1), time(12), tzinfo=tz)
    events = _counted_events(employee, start, start + timedelta(days=2))
    bands_version, bands = _bands_in_force(day)
    result = verdict.classify_day(day, events, schedule, info, (), bands, tz)
    row, _ = AttendanceDay.objects.update_or_create(
        employee=employee,
        day=day,
        defaults={
            "day_code": result.day_code,
            "in_code": result.in_code or "",
            "out_code": result.out_code or "",
            "minutes_late": result.minutes_late,
            "minutes_early": result.minutes_early,
            "first_in": result.first_in,
            "last_out": result.last_out,
            "schedule": version,
            "bands": bands_version,
            "explanation": list(result.explanation),
            "rules_version": result.rules_version,
            "computed_at": timezone.now(),
        },
    )
    return row
