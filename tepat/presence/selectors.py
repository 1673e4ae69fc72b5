"""Reads of the ledger for the employee's own views."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts import access
from tepat.org.models import Employee
from tepat.org.selectors import employee_sites
from tepat.presence.models import (
    AbsenceRequest,
    AttendanceDay,
    CheckinEvent,
    PhoneDevice,
    ScheduleException,
)
from tepat.presence.services import presence_policy_on


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, start + timedelta(days=1)


def _time(dt: datetime | None) -> str | None:
    return None if dt is None else timezone.localtime(dt).strftime("%H:%M")


def my_day(employee: Employee, now: datetime) -> dict[str, Any]:
    today = timezone.localdate(now)
    start, end = _local_day_bounds(today)
    policy = presence_policy_on(now)
    events = list(
        CheckinEvent.objects.filter(employee=employee, taken_at__gte=start, taken_at__lt=end)
        .select_related("site")
        .order_by("taken_at")
    )
    counted = [e for e in events if e.status != CheckinEvent.Status.REFUSED]
    first_in = next((e for e in counted if e.kind == CheckinEvent.Kind.IN), None)
    last_out = next((e for e in reversed(counted) if e.kind == CheckinEvent.Kind.OUT), None)
    parts = []
    if first_in:
        parts.append(_("Checked in at %(time)s") % {"time": _time(first_in.taken_at)})
    if last_out:
        parts.append(_("checked out at %(time)s") % {"time": _time(last_out.taken_at)})
    return {
        "server_time": now.isoformat(),
        "employee": {"nip": employee.nip, "name": employee.full_name},
        "sites": [
            {
                "id": s.pk,
                "name": s.name,
                "shape": s.shape,
                "latitude": None if s.latitude is None else float(s.latitude),
                "longitude": None if s.longitude is None else float(s.longitude),
                "radius_m": s.radius_m or policy.default_radius_m,
            }
            for s in employee_sites(employee, today)
        ],
        "events": [
            {
                "id": e.idempotency_key,
                "kind": e.kind,
                "taken_at": e.taken_at.isoformat(),
                "status": e.status,
                "site_name": e.site.name if e.site else None,
                "distance_m": None if e.distance_m is None else round(e.distance_m, 1),
                "message": e.message,
            }
            for e in events
        ],
        "summary": ", ".join(parts) if parts else _("No check-in yet today"),
    }


def my_month(employee: Employee, first: date) -> list[dict[str, Any]]:
    first, after = month_bounds(first)
    start = _local_day_bounds(first)[0]
    end = _local_day_bounds(after)[0]
    days: dict[date, dict[str, Any]] = {}
    for e in (
        CheckinEvent.objects.filter(employee=employee, taken_at__gte=start, taken_at__lt=end)
        .exclude(status=CheckinEvent.Status.REFUSED)
        .order_by("taken_at")
    ):
        d = timezone.localdate(e.taken_at)
        row = days.setdefault(
            d, {"date": d.isoformat(), "first_in": None, "last_out": None, "events": 0}
        )
        row["events"] += 1
        if e.kind == CheckinEvent.Kind.IN and row["first_in"] is None:
            row["first_in"] = _time(e.taken_at)
        if e.kind == CheckinEvent.Kind.OUT:
            row["last_out"] = _time(e.taken_at)
    return [days[d] for d in sorted(days)]


def checkins_awaiting_review(employees: QuerySet[Employee]) -> QuerySet[CheckinEvent]:
    return (
        CheckinEvent.objects.filter(
            status=CheckinEvent.Status.REVIEW, employee__in=employees, reviews__isnull=True
        )
        .select_related("employee", "site")
        .order_by("received_at")
    )


def devices_pending(employees: QuerySet[Employee]) -> QuerySet[PhoneDevice]:
    return (
        PhoneDevice.objects.filter(status=PhoneDevice.Status.PENDING, employee__in=employees)
        .select_related("employee")
        .order_by("created_at")
    )


def checkins_with_selfie(
    reviewable: QuerySet[Employee], *, own_employee_id: int | None
) -> QuerySet[CheckinEvent]:
    return (
        CheckinEvent.objects.exclude(selfie="")
        .filter(Q(employee__in=reviewable) | Q(employee_id=own_employee_id))
        .select_related("employee")
    )


RECAP_CODES = ("TL1", "TL2", "TL3", "TL4", "PSW1", "PSW2", "PSW3", "PSW4")


def month_bounds(first: date) -> tuple[date, date]:
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1)


RECAP_ORDER = ("name", "nip", "pk")
"""The recap's order, stable across its pages."""


def attendance_recap(
    employees: QuerySet[Employee] | Sequence[Employee], first: date
) -> list[dict[str, Any]]:
    """One row per employee for the month: the counts the TPP computation reads.

    ``employees``: a queryset (every one of them, in ``RECAP_ORDER``: the export the worker
    builds) or one page of them already in order (the page: only its people are counted)."""
    start, end = month_bounds(first)
    if isinstance(employees, QuerySet):
        listed = list(employees.order_by(*RECAP_ORDER))
        days = AttendanceDay.objects.filter(employee__in=employees, day__gte=start, day__lt=end)
    else:
        listed = list(employees)
        days = AttendanceDay.objects.filter(
            employee_id__in=[e.pk for e in listed], day__gte=start, day__lt=end
        )
    counts: dict[str, Any] = {
        "hadir": Count("id", filter=Q(day_code="H")),
        "tk": Count("id", filter=Q(day_code="TK")),
        "libur": Count("id", filter=Q(day_code="LIBUR")),
        "minutes_late": Sum("minutes_late", filter=Q(day_code="H"), default=0),
    }
    for code in RECAP_CODES:
        field = "in_code" if code.startswith("TL") else "out_code"
        counts[code.lower()] = Count("id", filter=Q(**{field: code}))
    rows = {r["employee_id"]: r for r in days.values("employee_id").annotate(**counts).order_by()}
    absences: dict[int, dict[str, int]] = {}
    for r in (
        days.exclude(day_code__in=["H", "TK", "LIBUR"])
        .values("employee_id", "day_code")
        .annotate(n=Count("id"))
        .order_by()
    ):
        absences.setdefault(r["employee_id"], {})[r["day_code"]] = r["n"]
    empty = {key: 0 for key in counts}
    return [
        {
            "employee": e,
            **rows.get(e.pk, empty),
            "absences": absences.get(e.pk, {}),
        }
        for e in listed
    ]


def absence_requests_of(user: Any) -> QuerySet[AbsenceRequest]:
    """The user's own requests and those they filed for others (still in their scope)."""
    mine = Q(submitted_by=user)
    if user.employee_id is not None:
        mine |= Q(employee_id=user.employee_id)
    return (
        access.absence_requests_visible_to(user)
        .filter(mine)
        .select_related("employee", "submitted_by")
        .order_by("-submitted_at")
    )


def absence_requests_for_queue(pending: QuerySet[AbsenceRequest]) -> QuerySet[AbsenceRequest]:
    return pending.select_related("employee", "submitted_by").order_by("first_day", "pk")


def schedule_exceptions_upcoming(
    visible: QuerySet[ScheduleException], today: date, *, days_back: int = 31
) -> QuerySet[ScheduleException]:
    """The last month's and every coming plan, in day order."""
    return (
        visible.filter(day__gte=today - timedelta(days=days_back))
        .select_related("employee", "group", "created_by")
        .order_by("day", "employee__name")[:500]
    )
