"""Today's presence, live: who has checked in, who is late, who has not come yet, who is on
leave and who is not expected today, for the people a user may see.

Read in a fixed number of queries whatever the number of employees (assignments, schedule
versions, the calendar, bands, site zones, today's events, today's stored verdicts) and judged
by the same ``tepat.rules.verdict.classify_day`` that writes the nightly verdict, so the
dashboard's "late" is the recap's TL. The plan of a day (working or not) is judged once per
schedule group, calendar kind and zone, not once per person; only people with punches today
are judged one by one.

The dashboard does not call this per poll: ``tepat.monitor.summary`` keeps its judgement in
a table and judges again only the people the ledger moved for.

A person's schedule exception (``presence.schedule_exceptions``: a later start that day, a day
off, a roster entry) is judged as the nightly verdict judges it: the day's plan is theirs, not
their group's, and the punches of the day are split from a neighbouring day's shift the same
way (``presence.day_punches``). The exceptions of the day and the days either side are read in
one query.

Approved absences (cuti, izin, dinas luar…) reach the monitor as today's stored
``AttendanceDay`` rows: whoever approves an absence rebuilds the days it covers, and a row
whose code is an absence type wins over the live judgement.
"""

import json
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple, cast
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tepat.accounts.access import current_assignments
from tepat.org.models import Employee, Unit
from tepat.presence.attendance import (
    bands_in_force,
    events_window,
    schedule_exceptions_around,
    schedules_in_force,
    site_zones,
    work_calendar,
    zone_of,
)
from tepat.presence.day_punches import day_punches
from tepat.presence.models import (
    AttendanceDay,
    CheckinEvent,
    CheckinReview,
    ScheduleException,
)
from tepat.rules import calendar as cal
from tepat.rules import verdict
from tepat.rules.schedule import calendar_day

LiveStatus = Literal["checked_in", "late", "review", "not_yet", "queued", "excused", "off"]

STATUS_LABELS: dict[LiveStatus, Promise] = {
    "checked_in": _("Checked in on time"),
    "late": _("Late"),
    "review": _("Checked in, awaiting review"),
    "not_yet": _("Not checked in yet"),
    "queued": _("Queued offline on the phone"),
    "excused": _("On leave or approved absence"),
    "off": _("Holiday or not scheduled"),
}
STATUSES: tuple[LiveStatus, ...] = tuple(STATUS_LABELS)


@dataclass(frozen=True)
class PresenceRow:
    employee_id: int
    nip: str
    name: str
    kind: str
    opd_id: int
    unit_id: int
    unit_name: str
    supervisor_id: int | None
    status: LiveStatus
    first_in: datetime | None
    """In the site's zone."""
    in_code: str | None
    minutes_late: int | None
    note: str
    """The absence type, or why the day is off."""
    absence_code: str = ""
    """The approved absence's type code, when excused."""


def _events(
    employees: QuerySet[Employee], start: datetime, end: datetime
) -> tuple[dict[int, list[verdict.AttendanceEvent]], set[int]]:
    """Counted events per employee (accepted, or flagged and accepted by a reviewer), and the
    employees with a flagged check-in nobody has decided on yet."""
    decided = CheckinReview.objects.filter(event=OuterRef("pk"))
    accepted = decided.filter(decision=CheckinReview.Decision.ACCEPT)
    rows = (
        CheckinEvent.objects.filter(
            employee_id__in=employees.values("pk"), taken_at__gte=start, taken_at__lt=end
        )
        .exclude(status=CheckinEvent.Status.REFUSED)
        .annotate(accepted=Exists(accepted), decided=Exists(decided))
        .values_list("employee_id", "taken_at", "kind", "source", "status", "accepted", "decided")
    )
    counted: dict[int, list[verdict.AttendanceEvent]] = {}
    pending: set[int] = set()
    for employee_id, taken_at, kind, source, status, was_accepted, was_decided in rows:
        if status == CheckinEvent.Status.ACCEPTED or was_accepted:
            counted.setdefault(employee_id, []).append(
                verdict.AttendanceEvent(taken_at, cast(verdict.EventKind, kind), source)
            )
        elif not was_decided and kind == CheckinEvent.Kind.IN:
            pending.add(employee_id)
    return counted, pending


class _Assigned(NamedTuple):
    employee_id: int
    nip: str
    name: str
    title_prefix: str
    title_suffix: str
    kind: str
    opd_id: int
    unit_id: int
    unit_name: str
    unit_kind: str
    unit_parent_id: int | None
    schedule_group_id: int | None
    supervisor_id: int | None

    @property
    def full_name(self) -> str:
        # As Employee.full_name, without building 3,400 model instances per poll.
        name = f"{self.title_prefix} {self.name}".strip()
        return f"{name}, {self.title_suffix}" if self.title_suffix else name


_IDS_IN_QUERY = 500


def exception_marks(day: date) -> dict[str, int]:
    """Per employee (the id as text, as JSON keeps it), a checksum of their schedule exceptions
    on the day and the days either side: a refresh compares it with the one it stored and
    judges again whoever's plan was saved, changed or removed since."""
    found: dict[str, list[str]] = {}
    rows = ScheduleException.objects.filter(
        day__gte=day - timedelta(days=1), day__lte=day + timedelta(days=1)
    ).values_list("employee_id", "day", "shift", "reason")
    for employee_id, on, shift, reason in rows:
        text = f"{on.isoformat()}|{json.dumps(shift, sort_keys=True)}|{reason}"
        found.setdefault(str(employee_id), []).append(text)
    return {k: zlib.crc32("\n".join(sorted(v)).encode()) for k, v in found.items()}


def presence_today(employees: QuerySet[Employee], now: datetime) -> list[PresenceRow]:
    """One row per active employee of ``employees`` with an assignment today."""
    day = timezone.localdate(now)
    assignments = [
        _Assigned(*values)
        for values in current_assignments(day)
        .filter(employee__in=employees, employee__active=True)
        .order_by("employee__name", "employee__nip")
        .values_list(
            "employee_id", "employee__nip", "employee__name", "employee__title_prefix",
            "employee__title_suffix", "employee__kind", "opd_id", "unit_id", "unit__name",
            "unit__kind", "unit__parent_id", "schedule_group_id", "supervisor_id",
        )
    ]  # fmt: skip
    group_ids = {a.schedule_group_id for a in assignments if a.schedule_group_id}
    schedules = {
        group_id: schedule
        for group_id, (_version, schedule) in schedules_in_force(group_ids, day).items()
    }
    calendars: dict[cal.CalendarKind, cal.WorkCalendar] = {}
    bands = bands_in_force(day)[1]
    units = {a.unit_id for a in assignments}
    zones = site_zones(units | {a.unit_parent_id for a in assignments if a.unit_parent_id})
    counted, pending = _events(employees, *events_window(day))
    stored = dict(
        AttendanceDay.objects.filter(
            employee_id__in=employees.values("pk"), day=day, day_code__in=verdict.ABSENCE_TYPES
        ).values_list("employee_id", "day_code")
    )
    exceptions = schedule_exceptions_around(
        # A refresh's few people by id; a rebuild reads the days' exceptions of everyone (a
        # province's ids in the statement would be the slow part).
        [a.employee_id for a in assignments] if len(assignments) <= _IDS_IN_QUERY else None,
        day,
    )
    plans: dict[tuple[int, str, str], tuple[cal.DayInfo, verdict.DayVerdict]] = {}
    rows: list[PresenceRow] = []
    for a in assignments:
        kind: cal.CalendarKind = "school" if a.unit_kind == Unit.Kind.SEKOLAH else "office"
        zone = zone_of(zones, a.unit_id, a.unit_parent_id)
        schedule = schedules.get(a.schedule_group_id or 0)
        status: LiveStatus
        judged: verdict.DayVerdict | None = None
        note = code = ""
        if a.employee_id in stored:
            status = "excused"
            code = stored[a.employee_id]
            note = verdict.ABSENCE_LABELS.get(cast(verdict.AbsenceType, code), code)
        elif schedule is None:
            status, note = "off", str(_("No working hours set for this group"))
        else:
            key = (a.schedule_group_id or 0, kind, zone)
            if key not in plans:
                if kind not in calendars:
                    calendars[kind] = work_calendar(kind, day)
                info = calendar_day(calendars[kind], schedule, day)
                plans[key] = (
                    info,
                    verdict.classify_day(day, [], schedule, info, (), bands, ZoneInfo(zone)),
                )
            info, plan = plans[key]
            own = counted.get(a.employee_id)
            planned = exceptions.get(a.employee_id)
            override = None
            if planned is not None:  # as attendance_days_rebuild: this person's own plan
                override = planned.get(day)
                if override is not None:
                    plan = verdict.classify_day(
                        day, [], schedule, info, (), bands, ZoneInfo(zone), override=override
                    )
                if own is not None:
                    own = day_punches(day, own, planned, schedule, calendars[kind], ZoneInfo(zone))
            if plan.day_code == "LIBUR":
                status, note = "off", plan.explanation[-1] if plan.explanation else ""
            elif own:
                judged = verdict.classify_day(
                    day, own, schedule, info, (), bands, ZoneInfo(zone), override=override
                )
                status = _status_of(judged, bands, a.employee_id in pending)
            else:
                status = "review" if a.employee_id in pending else "not_yet"
        rows.append(
            PresenceRow(
                employee_id=a.employee_id,
                nip=a.nip,
                name=a.full_name,
                kind=a.kind,
                opd_id=a.opd_id,
                unit_id=a.unit_id,
                unit_name=a.unit_name,
                supervisor_id=a.supervisor_id,
                status=status,
                first_in=judged.first_in if judged else None,
                in_code=judged.in_code if judged and judged.first_in else None,
                minutes_late=judged.minutes_late if judged else None,
                note=note,
                absence_code=code,
            )
        )
    return rows


def _status_of(
    judged: verdict.DayVerdict, bands: verdict.LatenessBands, pending: bool
) -> LiveStatus:
    if judged.first_in is None:  # only a check-out so far, or punches outside the window
        return "review" if pending else "not_yet"
    late_codes = {b.code for b in bands.tl}
    return "late" if judged.in_code in late_codes else "checked_in"


@dataclass
class Tally:
    """Counts per status for one OPD or unit."""

    key: str
    name: str
    counts: dict[LiveStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ordered(self) -> list[tuple[LiveStatus, int]]:
        """(status, count) in the dashboard's column order, for templates."""
        return [(status, self.counts[status]) for status in STATUSES]

    @property
    def expected(self) -> int:
        """People expected at work today: everyone but those excused or off."""
        return self.total - self.counts["excused"] - self.counts["off"]

    @property
    def present(self) -> int:
        return self.counts["checked_in"] + self.counts["late"] + self.counts["review"]


def tally_counts(found: dict[int, dict[LiveStatus, int]], names: dict[int, str]) -> list[Tally]:
    """Tallies per OPD or unit from counts already grouped (``summary.counts``), in the order
    of ``names``; groups without anyone today still appear (an OPD where nobody has an
    assignment shows zeros)."""
    tallies = {
        k: Tally(key=str(k), name=n, counts=dict.fromkeys(STATUSES, 0)) for k, n in names.items()
    }
    for group, by_status in found.items():
        if group not in tallies:  # an inactive OPD or unit that still has people today
            tallies[group] = Tally(
                key=str(group), name=f"#{group}", counts=dict.fromkeys(STATUSES, 0)
            )
        for status, n in by_status.items():
            tallies[group].counts[status] += n
    return list(tallies.values())


def total_of(tallies: list[Tally]) -> Tally:
    counts = dict.fromkeys(STATUSES, 0)
    for t in tallies:
        for status, n in t.counts.items():
            counts[status] += n
    return Tally(key="total", name=str(_("Total")), counts=counts)
