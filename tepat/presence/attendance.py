"""The daily verdict (H, TL1–4, PSW1–4, TK, LIBUR, leave…) derived from the ledger.

Fetch-then-calculate: gather the day's events, the schedule version and bands in force, and
the calendar into plain values, hand them to ``tepat.rules.verdict.classify_day``, and store
the result with the versions that produced it. A day is rebuilt whenever something that
feeds it arrives late (an offline phone, a machine backlog, a review decision).
"""

import json
from bisect import bisect_left
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat import chunk_processes
from tepat.audit.services import audit_record
from tepat.org.models import Assignment, Employee, ScheduleGroup, Unit, WorkSite
from tepat.presence.day_punches import punches_of_day, shifts_around
from tepat.presence.models import (
    AbsenceRequest,
    AttendanceDay,
    AttendanceDayChange,
    BandsVersion,
    CalendarEntry,
    CheckinEvent,
    CheckinReview,
    PeriodLock,
    ScheduleException,
    ScheduleVersion,
)
from tepat.rules import calendar as cal
from tepat.rules import verdict
from tepat.rules.calendar import DayInfo
from tepat.rules.leave import CORRECTION
from tepat.rules.schedule import (
    Schedule,
    ScheduleError,
    ScheduleOverride,
    Shift,
    calendar_day,
    validate_schedule_versions,
)
from tepat.rules.schedule_data import bands_from_data, schedule_from_data, shift_from_data

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


def bands_in_force(day: date) -> tuple[BandsVersion | None, verdict.LatenessBands]:
    version = BandsVersion.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    if version is None:
        return None, verdict.kaur_2022_bands()
    return version, bands_from_data(version.definition)


# --- The verdict ----------------------------------------------------------------------------


def _of_employees(employee_ids: Sequence[int] | None) -> Q:
    """Only these employees; None is everyone (a list of a province's ids would make the
    statement itself the slow part). Sorted, dense ids (a chunk of a month's rebuild) are
    asked for as a range: the few rows of others in it cost less than a long IN list, and the
    caller only reads the employees it wants from what it gets."""
    if employee_ids is None:
        return Q()
    if employee_ids and max(employee_ids) - min(employee_ids) < 2 * len(employee_ids):
        return Q(employee_id__gte=min(employee_ids), employee_id__lte=max(employee_ids))
    return Q(employee_id__in=employee_ids)


def _counted_events_by_employee(
    employee_ids: Sequence[int] | None, start: datetime, end: datetime
) -> dict[int, list[verdict.AttendanceEvent]]:
    """Accepted events, and flagged ones a reviewer accepted; refused ones never count."""
    accepted_review = CheckinReview.objects.filter(event=OuterRef("pk"), decision="accept")
    rows = (
        CheckinEvent.objects.filter(
            _of_employees(employee_ids), taken_at__gte=start, taken_at__lt=end
        )
        .filter(Q(status=CheckinEvent.Status.ACCEPTED) | Q(Exists(accepted_review)))
        .values_list("employee_id", "taken_at", "kind", "source")
    )
    found: dict[int, list[verdict.AttendanceEvent]] = {}
    for employee_id, taken_at, kind, source in rows:  # one round trip, not a cursor's many
        found.setdefault(employee_id, []).append(
            verdict.AttendanceEvent(taken_at=taken_at, kind=cast(EventKind, kind), source=source)
        )
    return found


AbsenceSpan = tuple[date, date, verdict.Absence | verdict.PartialAbsence]
"""An approved absence and the days it covers (first, last)."""


def _approved_absences(
    employee_ids: Sequence[int] | None, first: date, last: date
) -> dict[int, list[AbsenceSpan]]:
    """Approved whole-day and partial absences covering a day of the range, as the rules core
    wants them. A forgotten punch is not an absence: once approved it is an event in the
    ledger."""
    found: dict[int, list[AbsenceSpan]] = {}
    rows = (
        AbsenceRequest.objects.filter(
            _of_employees(employee_ids),
            status=AbsenceRequest.Status.APPROVED,
            first_day__lte=last,
            last_day__gte=first,
        )
        .exclude(type=CORRECTION)
        .order_by("pk")
        .values_list("pk", "employee_id", "type", "first_day", "last_day", "starts_at", "ends_at")
    )
    for pk, employee_id, type_, first_day, last_day, starts_at, ends_at in rows:
        kind = cast(verdict.AbsenceType, type_)
        absence: verdict.Absence | verdict.PartialAbsence
        if starts_at is not None and ends_at is not None:
            absence = verdict.PartialAbsence(kind, starts_at, ends_at, f"#{pk}")
        else:
            absence = verdict.Absence(kind, first_day, last_day, f"#{pk}")
        found.setdefault(employee_id, []).append((first_day, last_day, absence))
    return found


def schedules_in_force(
    group_ids: set[int], day: date
) -> dict[int, tuple[ScheduleVersion, Schedule]]:
    """Each schedule group's version in force on the day, read and validated once."""
    found: dict[int, tuple[ScheduleVersion, Schedule]] = {}
    for version in (
        ScheduleVersion.objects.filter(group_id__in=group_ids, valid_from__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .order_by("group_id", "valid_from")
    ):
        found[version.group_id] = (version, schedule_from_data(version.definition))
    return found


def site_zones(unit_ids: set[int]) -> dict[int, str]:
    """Each unit's zone from its first site (a bidang takes its parent's: see `zone_of`)."""
    zones: dict[int, str] = {}
    for unit_id, tz in (
        WorkSite.objects.filter(unit_id__in=unit_ids, active=True)
        .order_by("pk")
        .values_list("unit_id", "timezone")
    ):
        zones.setdefault(unit_id, tz)
    return zones


def zone_of(zones: dict[int, str], unit_id: int, parent_id: int | None) -> str:
    """The unit's zone, else its parent's, else the regency's default."""
    return zones.get(unit_id) or zones.get(parent_id or 0) or timezone.get_current_timezone_name()


def events_window(day: date) -> tuple[datetime, datetime]:
    """The punches that may belong to `day` in any zone: from noon the day before to noon the
    day after (a night shift's morning punch), widened by three hours for WIT and WIB."""
    zone = ZoneInfo(timezone.get_current_timezone_name())
    start = datetime.combine(day - timedelta(days=1), time(12), tzinfo=zone)
    return start - timedelta(hours=3), start + timedelta(days=2, hours=3)


def schedule_exceptions_around(
    employee_ids: Sequence[int] | None, first: date, last: date | None = None
) -> dict[int, dict[date, ScheduleOverride]]:
    """Each employee's exceptions from the day before `first` to the day after `last` (a
    night shift the day before takes that morning's punches), as the rules core wants them."""
    found: dict[int, dict[date, ScheduleOverride]] = {}
    rows = ScheduleException.objects.filter(
        _of_employees(employee_ids),
        day__gte=first - timedelta(days=1),
        day__lte=(last or first) + timedelta(days=1),
    ).values_list("employee_id", "day", "shift", "reason")
    for employee_id, on, shift, reason in rows:
        planned = shift_from_data(shift) if shift else None
        found.setdefault(employee_id, {})[on] = ScheduleOverride(on, planned, reason)
    return found


_Span = tuple[datetime, datetime]
"""From, until (excluded), in UTC."""

_MICROSECOND = timedelta(microseconds=1)


def _own_span(day: date, shift: Shift | None, tz: ZoneInfo, window: _Span) -> _Span:
    """The punches a day is judged with: those of its own date in the site's zone, and those
    of its shift's presence window (a night shift's morning check-out, an early shift's
    check-in before midnight), within the `events_window` read. A neighbouring day's punch
    outside the shift belongs to that day and is explained there, not here too."""
    since = datetime.combine(day, time(0), tz).astimezone(UTC)
    until = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    if shift is not None:
        instance = shift.on(day, tz)
        since = min(since, instance.opens.astimezone(UTC))
        until = max(until, instance.closes.astimezone(UTC) + _MICROSECOND)  # closes included
    return max(since, window[0]), min(until, window[1])


def _planned_shift(day: date, plan: "_DayPlan") -> Shift | None:
    """The schedule's shift on the day, as `classify_day` finds it without an exception."""
    _version, schedule, _calendar, info = plan
    return schedule.shift_on(day, info.period) if info.is_working_day else None


def _row_values(
    result: verdict.DayVerdict, schedule_id: int, bands_id: int | None, now: datetime
) -> tuple[Any, ...]:
    """A verdict as the values of `ATTENDANCE_COLUMNS` after the employee's id. The
    explanation stays the verdict's tuple: a verdict shared by many rows is encoded once."""
    return (
        result.day,
        result.day_code,
        result.in_code or "",
        result.out_code or "",
        result.minutes_late,
        result.minutes_early,
        result.first_in,
        result.last_out,
        schedule_id,
        bands_id,
        result.explanation,
        result.rules_version,
        now,
    )


AttendanceRow = tuple[Any, ...]
"""One verdict as the values of `ATTENDANCE_COLUMNS` (ids, not model instances)."""

ATTENDANCE_COLUMNS = (
    "employee_id", "day", "day_code", "in_code", "out_code", "minutes_late", "minutes_early",
    "first_in", "last_out", "schedule_id", "bands_id", "explanation", "rules_version",
    "computed_at",
)  # fmt: skip


def attendance_days_rebuild(day: date, employee_ids: list[int] | None = None) -> int:
    """Recompute and store the verdicts of one day for many employees (default: everyone
    with an assignment that day) in a fixed number of queries. Returns rows written (in a
    locked month: the changes found, see `_changes_after_lock`)."""
    return attendance_range_rebuild(day, day, employee_ids)


PERIOD_CHUNK = 2000
"""Employees per chunk of a period's rebuild: a month of theirs is ~60,000 verdicts."""


def month_days(year: int, month: int) -> tuple[date, date]:
    """The first and the last day of a month."""
    first = date(year, month, 1)
    return first, (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)


def attendance_month_rebuild(
    year: int, month: int, employee_ids: list[int] | None = None, *, processes: int | None = None
) -> int:
    """Every day's verdicts of a month as one job (`attendance_period_rebuild`)."""
    return attendance_period_rebuild(*month_days(year, month), employee_ids, processes=processes)


def attendance_period_rebuild(
    first: date,
    last: date,
    employee_ids: list[int] | None = None,
    *,
    chunk: int = PERIOD_CHUNK,
    processes: int | None = None,
) -> int:
    """Recompute and store the verdicts of every day from `first` to `last` for many employees
    (default: everyone with a schedule on one of those days) as one job: the employees in
    chunks of `chunk`, each chunk's inputs read once for the whole period and its verdicts
    stored in its own transaction (`attendance_range_rebuild`), the chunks spread over
    `ATTENDANCE_REBUILD_PROCESSES` worker processes where the database allows it
    (`chunk_processes.workers_for`; `processes` overrides). The same verdicts as rebuilding
    the days one by one. Returns rows written plus changes found in locked months."""
    if last < first or (last - first).days > 366:
        raise ValidationError(_("The period must run forwards and last at most a year."))
    found = {a[0] for a in _assignments_between(first, last, employee_ids)}
    ids = sorted(found if employee_ids is None else found & set(employee_ids))
    chunks = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
    for year in range(first.year - 1, last.year + 2):
        _national_days(year)  # computed once here, inherited by the worker processes
    workers = (
        chunk_processes.workers_for(len(chunks), settings.ATTENDANCE_REBUILD_PROCESSES)
        if processes is None
        else processes
    )
    work = partial(attendance_range_rebuild, first, last)
    return sum(chunk_processes.chunks_map(work, chunks, workers))


def attendance_range_rebuild(
    first: date, last: date, employee_ids: Sequence[int] | None = None
) -> int:
    """Recompute and store the verdicts of every day from `first` to `last` for many employees
    (default: everyone with an assignment on one of those days) in this process: every input
    read once for the whole range, in a fixed number of queries, stored in one transaction.
    Returns rows written plus changes found in locked months."""
    now = timezone.now()
    by_day = _verdict_rows(first, last, employee_ids, now)
    locked = _locked_months(first, last)
    written = 0
    with transaction.atomic():
        open_rows: list[AttendanceRow] = []
        for day, rows in by_day.items():
            if day.replace(day=1) in locked:
                written += _changes_after_lock(day, [_attendance_day(r) for r in rows], now)
            else:
                open_rows.extend(rows)
        _attendance_days_store(open_rows)
    return written + len(open_rows)


def _locked_months(first: date, last: date) -> set[date]:
    return set(
        PeriodLock.objects.filter(month__gte=first.replace(day=1), month__lte=last).values_list(
            "month", flat=True
        )
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def _verdict_rows(
    first: date, last: date, employee_ids: Sequence[int] | None, now: datetime
) -> dict[date, list[AttendanceRow]]:
    """The verdict of each employee with a schedule on each day, by day. Many employees share
    a schedule, a calendar and a zone: those are worked out once each."""
    wanted = None if employee_ids is None else set(employee_ids)
    assignments = [
        a
        for a in _assignments_between(first, last, employee_ids)
        if wanted is None or a[0] in wanted
    ]
    by_day: dict[date, list[AttendanceRow]] = {}
    if not assignments:
        return by_day
    days = _days(first, last)
    versions = _schedule_versions({a[1] for a in assignments}, first, last)
    bands = _bands_by_day(days)
    calendars: dict[tuple[cal.CalendarKind, int], cal.WorkCalendar] = {}
    unit_zone = site_zones({a[3] for a in assignments} | {a[4] for a in assignments if a[4]})
    # In UTC, as the ledger's times come: comparing datetimes of one tzinfo is the fast kind.
    windows: list[_Span] = []
    for day in days:
        opens, closes = events_window(day)
        windows.append((opens.astimezone(UTC), closes.astimezone(UTC)))
    events = _counted_events_by_employee(employee_ids, windows[0][0], windows[-1][1])
    absences = _approved_absences(employee_ids, first, last)
    exceptions = schedule_exceptions_around(employee_ids, first, last)
    zones: dict[tuple[int, int | None], ZoneInfo] = {}
    alike: dict[tuple[str, int, date, ZoneInfo], tuple[Any, ...]] = {}
    group_days: dict[tuple[cal.CalendarKind, int], list[_DayPlan | None]] = {}
    group_spans: dict[tuple[cal.CalendarKind, int, ZoneInfo], list[_Span | None]] = {}
    for employee_id, group_id, unit_kind, unit_id, parent_id, valid_from, valid_to in assignments:
        group_versions = versions.get(group_id)
        if not group_versions:
            continue  # no hours set for this group: no verdict, not a TK
        kind: cal.CalendarKind = "school" if unit_kind == Unit.Kind.SEKOLAH else "office"
        group_plans = group_days.get((kind, group_id))
        if group_plans is None:
            group_plans = _day_plans(kind, group_versions, days, calendars)
            group_days[kind, group_id] = group_plans
        tz = zones.get((unit_id, parent_id))
        if tz is None:
            tz = zones[unit_id, parent_id] = ZoneInfo(zone_of(unit_zone, unit_id, parent_id))
        spans = group_spans.get((kind, group_id, tz))
        if spans is None:
            spans = group_spans[kind, group_id, tz] = [
                None if plan is None else _own_span(day, _planned_shift(day, plan), tz, window)
                for day, plan, window in zip(days, group_plans, windows, strict=True)
            ]
        own_events = events.get(employee_id, [])
        own_events.sort(key=_taken_at)
        times = [e.taken_at for e in own_events]
        own_absences = absences.get(employee_id, ())
        planned = exceptions.get(employee_id)
        for day, plan, span, (opens, closes), (bands_id, day_bands) in zip(
            days, group_plans, spans, windows, bands, strict=True
        ):
            if plan is None or day < valid_from or (valid_to is not None and day >= valid_to):
                continue
            version, schedule, calendar, info = plan
            override = None
            if planned is not None and _plans_near(planned, day):
                # An exception on the day or beside it: the punches of the whole window, each
                # given to the nearer of the planned shifts where their windows overlap.
                override = planned.get(day)
                plans = shifts_around(day, planned, schedule, calendar)
                if sum(1 for shift in plans.values() if shift is not None) > 1:
                    around = own_events[bisect_left(times, opens) : bisect_left(times, closes)]
                    own = punches_of_day(day, around, plans, tz)
                else:  # one shift or none planned around: nothing to share out
                    since, until = _own_span(day, plans.get(day), tz, (opens, closes))
                    own = own_events[bisect_left(times, since) : bisect_left(times, until)]
            elif span is None:
                own = []
            else:
                own = own_events[bisect_left(times, span[0]) : bisect_left(times, span[1])]
            absent = (
                [a for since, until, a in own_absences if since <= day <= until]
                if own_absences
                else []
            )
            if own or absent or override is not None:
                result = verdict.classify_day(
                    day, own, schedule, info, absent, day_bands, tz, override=override
                )
                values = _row_values(result, version.pk, bands_id, now)
            else:  # nothing of the employee's own: everyone alike shares the verdict's values
                shared = alike.get((kind, group_id, day, tz))
                if shared is None:
                    result = verdict.classify_day(day, own, schedule, info, absent, day_bands, tz)
                    shared = alike[kind, group_id, day, tz] = _row_values(
                        result, version.pk, bands_id, now
                    )
                values = shared
            by_day.setdefault(day, []).append((employee_id, *values))
    return by_day


_DayPlan = tuple[ScheduleVersion, Schedule, cal.WorkCalendar, DayInfo]
"""A schedule group's day: the version in force, the calendar and what it says of the day."""


def _day_plans(
    kind: cal.CalendarKind,
    versions: list[tuple[ScheduleVersion, Schedule]],
    days: list[date],
    calendars: dict[tuple[cal.CalendarKind, int], cal.WorkCalendar],
) -> list[_DayPlan | None]:
    """Each day's plan of a group for one calendar kind (None: no version in force)."""
    found: list[_DayPlan | None] = []
    for day in days:
        in_force = _version_on(versions, day)
        if in_force is None:
            found.append(None)
            continue
        calendar = calendars.get((kind, day.year))
        if calendar is None:
            calendar = calendars[kind, day.year] = work_calendar(kind, day)
        version, schedule = in_force
        found.append((version, schedule, calendar, calendar_day(calendar, schedule, day)))
    return found


def _taken_at(event: verdict.AttendanceEvent) -> datetime:
    return event.taken_at


def _plans_near(planned: dict[date, ScheduleOverride], day: date) -> bool:
    """An exception on the day or either side: the day's punches depend on those plans."""
    return any(day + timedelta(n) in planned for n in (-1, 0, 1))


def _assignments_between(
    first: date, last: date, employee_ids: Sequence[int] | None
) -> list[tuple[int, int, str, int, int | None, date, date | None]]:
    """Assignments with a schedule group in force on any day of the range, of active
    employees (the rows of other employees in a chunk's id range too: the caller filters)."""
    return list(
        Assignment.objects.filter(valid_from__lte=last)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=first))
        .filter(_of_employees(employee_ids), schedule_group__isnull=False, employee__active=True)
        .values_list(
            "employee_id",
            "schedule_group_id",
            "unit__kind",
            "unit_id",
            "unit__parent_id",
            "valid_from",
            "valid_to",
        )
    )


def _schedule_versions(
    group_ids: set[int], first: date, last: date
) -> dict[int, list[tuple[ScheduleVersion, Schedule]]]:
    """Each group's versions in force on some day of the range, oldest first, read and
    validated once."""
    found: dict[int, list[tuple[ScheduleVersion, Schedule]]] = {}
    for version in (
        ScheduleVersion.objects.filter(group_id__in=group_ids, valid_from__lte=last)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
        .order_by("group_id", "valid_from")
    ):
        found.setdefault(version.group_id, []).append(
            (version, schedule_from_data(version.definition))
        )
    return found


def _version_on(
    versions: list[tuple[ScheduleVersion, Schedule]], day: date
) -> tuple[ScheduleVersion, Schedule] | None:
    """The latest version in force on the day (as `schedules_in_force`)."""
    for version, schedule in reversed(versions):
        if version.valid_from <= day and (
            version.valid_until is None or version.valid_until >= day
        ):
            return version, schedule
    return None


def _bands_by_day(days: list[date]) -> list[tuple[int | None, verdict.LatenessBands]]:
    """The bands in force on each day (as `bands_in_force`), each version parsed once."""
    versions = [
        (v, bands_from_data(v.definition))
        for v in BandsVersion.objects.filter(valid_from__lte=days[-1]).order_by("valid_from")
    ]
    default = verdict.kaur_2022_bands()
    found: list[tuple[int | None, verdict.LatenessBands]] = []
    for day in days:
        chosen: tuple[int | None, verdict.LatenessBands] = (None, default)
        for version, bands in versions:
            if version.valid_from <= day:
                chosen = (version.pk, bands)
        found.append(chosen)
    return found


def _attendance_day(row: AttendanceRow) -> AttendanceDay:
    values = dict(zip(ATTENDANCE_COLUMNS, row, strict=True))
    values["explanation"] = list(values["explanation"])
    return AttendanceDay(**values)


_EXPLANATION = ATTENDANCE_COLUMNS.index("explanation")


def _attendance_days_store(rows: list[AttendanceRow]) -> None:
    """Insert or replace the verdicts. On PostgreSQL through COPY into a scratch table and
    one INSERT … ON CONFLICT: for a whole province's day, building a model instance and an
    INSERT parameter list per row costs more than the verdicts themselves."""
    if connection.vendor != "postgresql":
        AttendanceDay.objects.bulk_create(
            [_attendance_day(r) for r in rows],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["employee", "day"],
            update_fields=[c.removesuffix("_id") for c in ATTENDANCE_COLUMNS[2:]],
        )
        return
    if not rows:
        return
    import psycopg

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _STORED_ANY,
            [
                min(r[0] for r in rows),
                max(r[0] for r in rows),
                min(r[1] for r in rows),
                max(r[1] for r in rows),
            ],
        )
        if not cursor.fetchone()[0]:
            # Nothing stored yet for these employees and days (a new month): straight in,
            # unless a verdict arrived meanwhile (then as below).
            try:
                with transaction.atomic():
                    _rows_copy(cursor, _DIRECT_COPY, rows)
                return
            except psycopg.errors.UniqueViolation:
                pass
        cursor.execute(_INCOMING_CREATE)
        _rows_copy(cursor, _INCOMING_COPY, rows)
        cursor.execute(_INCOMING_UPSERT)
        cursor.execute(_INCOMING_DROP)  # now: inside a longer transaction it would still exist


def _rows_copy(cursor: Any, sql: str, rows: list[AttendanceRow]) -> None:
    dumps = json.JSONEncoder(ensure_ascii=False).encode  # jsonb: the same value, less to parse
    encoded: dict[int, str] = {}  # by the explanation's identity: shared verdicts share it
    # The day and the rebuild's time are a few values among many rows: each is formatted
    # once (COPY's text form, ISO 8601) instead of once per row.
    stamps: dict[date | datetime, str] = {}
    with cursor.copy(sql) as copy:
        for r in rows:
            lines = r[_EXPLANATION]
            text = encoded.get(id(lines))
            if text is None:
                text = encoded[id(lines)] = dumps(lines)
            day, computed_at = r[1], r[-1]
            day_text = stamps.get(day)
            if day_text is None:
                day_text = stamps[day] = day.isoformat()
            computed_text = stamps.get(computed_at)
            if computed_text is None:
                computed_text = stamps[computed_at] = computed_at.isoformat()
            copy.write_row(
                (r[0], day_text, *r[2:_EXPLANATION], text, r[_EXPLANATION + 1], computed_text)
            )


# The columns of ATTENDANCE_COLUMNS, in that order (checked by the tests on PostgreSQL).
_INCOMING_CREATE = """
    CREATE TEMPORARY TABLE attendance_day_incoming ON COMMIT DROP AS
    SELECT employee_id, day, day_code, in_code, out_code, minutes_late, minutes_early,
           first_in, last_out, schedule_id, bands_id, explanation, rules_version, computed_at
    FROM presence_attendanceday WITH NO DATA
"""
_INCOMING_COPY = """
    COPY attendance_day_incoming (employee_id, day, day_code, in_code, out_code, minutes_late,
        minutes_early, first_in, last_out, schedule_id, bands_id, explanation, rules_version,
        computed_at) FROM STDIN
"""
_INCOMING_DROP = "DROP TABLE attendance_day_incoming"
_STORED_ANY = """
    SELECT EXISTS (SELECT 1 FROM presence_attendanceday
                   WHERE employee_id BETWEEN %s AND %s AND day BETWEEN %s AND %s)
"""
_DIRECT_COPY = """
    COPY presence_attendanceday (employee_id, day, day_code, in_code, out_code, minutes_late,
        minutes_early, first_in, last_out, schedule_id, bands_id, explanation, rules_version,
        computed_at) FROM STDIN
"""
_INCOMING_UPSERT = """
    INSERT INTO presence_attendanceday (employee_id, day, day_code, in_code, out_code,
        minutes_late, minutes_early, first_in, last_out, schedule_id, bands_id, explanation,
        rules_version, computed_at)
    SELECT employee_id, day, day_code, in_code, out_code, minutes_late, minutes_early,
           first_in, last_out, schedule_id, bands_id, explanation, rules_version, computed_at
    FROM attendance_day_incoming
    ON CONFLICT (employee_id, day) DO UPDATE SET
        day_code = EXCLUDED.day_code, in_code = EXCLUDED.in_code,
        out_code = EXCLUDED.out_code, minutes_late = EXCLUDED.minutes_late,
        minutes_early = EXCLUDED.minutes_early, first_in = EXCLUDED.first_in,
        last_out = EXCLUDED.last_out, schedule_id = EXCLUDED.schedule_id,
        bands_id = EXCLUDED.bands_id, explanation = EXCLUDED.explanation,
        rules_version = EXCLUDED.rules_version, computed_at = EXCLUDED.computed_at
"""


def _changes_after_lock(day: date, rows: list[AttendanceDay], now: datetime) -> int:
    """A locked month keeps the verdicts its TPP was paid on; a verdict that would now differ
    is recorded as an open change, for the next period's correction. Returns changes open."""
    locked = {
        r.employee_id: r
        for r in AttendanceDay.objects.filter(
            day=day, employee_id__in=[r.employee_id for r in rows]
        )
    }
    open_changes = AttendanceDayChange.objects.filter(day=day, settled_in__isnull=True)
    count = 0
    for row in rows:
        before = locked.get(row.employee_id)
        same = before is not None and (before.day_code, before.in_code, before.out_code) == (
            row.day_code,
            row.in_code,
            row.out_code,
        )
        if same:
            open_changes.filter(employee_id=row.employee_id).delete()  # back as it was paid
            continue
        AttendanceDayChange.objects.update_or_create(
            employee_id=row.employee_id,
            day=day,
            settled_in__isnull=True,
            defaults={
                "locked_code": before.day_code if before else "",
                "new_code": row.day_code,
                "new_in_code": row.in_code,
                "new_out_code": row.out_code,
                "explanation": row.explanation,
                "found_at": now,
            },
        )
        count += 1
    return count


def attendance_day_rebuild(employee: Employee, day: date) -> AttendanceDay | None:
    """Recompute and store one employee's verdict for one day (None: no schedule applies)."""
    attendance_days_rebuild(day, [employee.pk])
    return (
        AttendanceDay.objects.filter(employee=employee, day=day).select_related("schedule").first()
    )
