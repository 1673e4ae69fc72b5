"""Reads for e-Kinerja: the policy in force, whose reports a user may see or decide, and the
month gathered into the plain values `tepat.rules.kinerja` evaluates.

Who may see and who may decide a report is decided in `tepat.accounts.access` (the one
scoping layer): `employees_visible_to`, `report_decider_role` and `reports_decidable_by`.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts import access
from tepat.kinerja.models import (
    DailyReport,
    MonthlyEvaluation,
    Skp,
    SkpIndicator,
    SkpResult,
)
from tepat.kinerja.policy import kinerja_policy_on
from tepat.org.models import Assignment, Employee, Unit
from tepat.presence.attendance import site_zones, work_calendar, zone_of
from tepat.presence.models import AttendanceDay
from tepat.rules import kinerja as rules
from tepat.rules.kinerja_policy import KinerjaPolicy

OFFICE_WEEK = frozenset(range(5))


# --- where and who -----------------------------------------------------------------------------


def assignment_on(employee_id: int, day: date) -> Assignment | None:
    return (
        access.current_assignments(day)
        .filter(employee_id=employee_id)
        .select_related("unit", "supervisor")
        .first()
    )


def employee_zone(employee_id: int, day: date) -> ZoneInfo:
    """The zone of the employee's work site (their unit's, or its parent's), for cutting days."""
    found = assignment_on(employee_id, day)
    if found is None:
        return ZoneInfo(settings.TIME_ZONE)
    parent_id = found.unit.parent_id
    zones = site_zones({found.unit_id, *([parent_id] if parent_id else [])})
    return ZoneInfo(zone_of(zones, found.unit_id, parent_id))


def day_code(employee_id: int, day: date) -> str | None:
    return (
        AttendanceDay.objects.filter(employee_id=employee_id, day=day)
        .values_list("day_code", flat=True)
        .first()
    )


def reports_visible_to(user: Any) -> QuerySet[DailyReport]:
    """Reports of the employees the user may read (themself, subordinates, OPD, regency)."""
    return access.scoped(
        DailyReport.objects.filter(employee__in=access.employees_visible_to(user))
    ).select_related("employee", "skp_result")


def report_for_user(user: Any, report_id: int) -> DailyReport:
    """One visible report; 404 otherwise (ids of other OPD's reports do not leak)."""
    try:
        return reports_visible_to(user).get(pk=report_id)
    except DailyReport.DoesNotExist:
        raise Http404(_("Report not found.")) from None


def own_reports(employee: Employee, first: date, last: date) -> QuerySet[DailyReport]:
    return (
        DailyReport.objects.filter(employee=employee, day__gte=first, day__lte=last)
        .select_related("skp_result")
        .order_by("day", "start_time", "pk")
    )


def overdue_pending(now: datetime, policy: KinerjaPolicy) -> QuerySet[DailyReport]:
    """Pending reports filed `reminder_after_days` days ago or more."""
    cutoff = now - timedelta(days=policy.review.reminder_after_days)
    return DailyReport.objects.filter(status=DailyReport.Status.PENDING, received_at__lte=cutoff)


# --- SKP ---------------------------------------------------------------------------------------


def skp_of(employee: Employee, year: int) -> Skp | None:
    return (
        Skp.objects.filter(employee=employee, year=year)
        .prefetch_related("results__indicators", "results__intervensi")
        .first()
    )


def supervisor_results(employee: Employee, year: int) -> QuerySet[SkpResult]:
    """The supervisor's own planned results for the year: what an RHK may cascade from."""
    found = assignment_on(employee.pk, date(year, 1, 1)) or assignment_on(
        employee.pk, timezone.localdate()
    )
    if found is None or found.supervisor_id is None:
        return SkpResult.objects.none()
    return SkpResult.objects.filter(skp__employee_id=found.supervisor_id, skp__year=year)


def skps_decidable_by(user: Any) -> QuerySet[Skp]:
    if not user.is_authenticated or user.employee_id is None:
        return Skp.objects.none()
    return Skp.objects.filter(
        status=Skp.Status.SUBMITTED, supervisor_id=user.employee_id
    ).select_related("employee")


def results_for_reports(employee: Employee, day: date) -> QuerySet[SkpResult]:
    """The planned results a report of `day` may serve: the year's SKP, once submitted."""
    return SkpResult.objects.filter(
        skp__employee=employee,
        skp__year=day.year,
    ).order_by("order", "pk")


def results_of(employee: Employee) -> QuerySet[SkpResult]:
    """All the employee's planned results, newest year first: a report form's choices (the
    service checks that the chosen one belongs to the report's year)."""
    return (
        SkpResult.objects.filter(skp__employee=employee)
        .select_related("skp")
        .order_by("-skp__year", "order", "pk")
    )


# --- the month ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthFacts:
    policy: KinerjaPolicy
    month: rules.KinerjaMonth
    result: rules.KinerjaResult


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def _working_days(first: date, last: date) -> list[date]:
    """The month's working days on the office calendar (Mon–Fri, national and regency days
    off removed). The minutes target is per month, so a teacher's school calendar does not
    change it; only days out of post prorate it."""
    calendar = work_calendar("office", first)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if calendar.day_kind(d, workdays=OFFICE_WEEK).is_working_day]


def months_gather(
    year: int, month: int, employee_ids: Collection[int] | None = None
) -> tuple[KinerjaPolicy, dict[int, rules.KinerjaMonth]]:
    """Fetch, for many employees at once: each one's month as plain values, the reports summed
    by the database (`rules.ReportTotals`), in a fixed number of queries whatever the number of
    employees. Without `employee_ids`: everyone in post at some time in the month."""
    first, last = month_bounds(year, month)
    policy = kinerja_policy_on(first)
    working = _working_days(first, last)
    in_month = Assignment.objects.filter(valid_from__lte=last).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=first)
    )
    if employee_ids is not None:
        in_month = in_month.filter(employee_id__in=list(employee_ids))
    posts: dict[int, list[tuple[date, date | None, str, str]]] = {}
    for row in in_month.order_by("employee_id", "valid_from", "pk").values_list(
        "employee_id", "valid_from", "valid_to", "jabatan", "unit__kind"
    ):
        posts.setdefault(row[0], []).append(row[1:])
    ids = sorted(posts) if employee_ids is None else sorted(set(employee_ids))

    def scoped(queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset if employee_ids is None else queryset.filter(employee_id__in=ids)

    reports = scoped(DailyReport.objects.filter(day__gte=first, day__lte=last))
    approved = Q(status=DailyReport.Status.APPROVED)
    effective = Coalesce("approved_minutes", "minutes")
    # One pass over the month's reports: per employee, SKP result and unit, the counts and
    # minutes per status and the approved quantity (realisation compares units as the officer
    # typed them, trimmed and case-folded).
    counted = ("pending", "approved", "rejected", "pending_minutes", "rejected_minutes",
               "approved_minutes")  # fmt: skip
    sums: dict[int, list[int]] = {}
    realised: dict[tuple[int, str], Decimal] = {}
    for employee_id, result_id, unit, *numbers, quantity in (
        reports.values("employee_id", "skp_result_id", "unit")
        .annotate(
            n_pending=Count("pk", filter=Q(status=DailyReport.Status.PENDING)),
            n_approved=Count("pk", filter=approved),
            n_rejected=Count("pk", filter=Q(status=DailyReport.Status.REJECTED)),
            pending_minutes=Sum("minutes", filter=Q(status=DailyReport.Status.PENDING)),
            rejected_minutes=Sum("minutes", filter=Q(status=DailyReport.Status.REJECTED)),
            approved_minutes=Sum(effective, filter=approved),
            approved_quantity=Sum("quantity", filter=approved),
        )
        .order_by()
        .values_list(
            "employee_id",
            "skp_result_id",
            "unit",
            *(f"n_{c}" for c in counted[:3]),
            *counted[3:],
            "approved_quantity",
        )
    ):
        total = sums.setdefault(employee_id, [0] * len(counted))
        for k, number in enumerate(numbers):
            total[k] += number or 0
        if result_id is not None and quantity is not None:
            key = (result_id, unit.strip().casefold())
            realised[key] = realised.get(key, Decimal(0)) + quantity
    # Approved minutes on days the attendance verdict blocks (TK, whole-day leave): few rows.
    blocked_days = scoped(
        AttendanceDay.objects.filter(
            day__gte=first, day__lte=last, day_code__in=sorted(policy.report.blocked_day_codes)
        )
    )
    # Driven from those days (an index lookup each), never a scan of the month's reports.
    approved_that_day = (
        DailyReport.objects.filter(
            approved, employee_id=OuterRef("employee_id"), day=OuterRef("day")
        )
        .values("employee_id")
        .annotate(total=Sum(effective))
        .values("total")
    )
    excluded: dict[int, list[tuple[date, str, int]]] = {}
    for employee_id, day, code, minutes in (
        blocked_days.annotate(minutes=Subquery(approved_that_day))
        .filter(minutes__isnull=False)
        .order_by("employee_id", "day")
        .values_list("employee_id", "day", "day_code", "minutes")
    ):
        excluded.setdefault(employee_id, []).append((day, code, minutes))
    ratings = {
        employee_id: (hasil_kerja or None, perilaku or None)
        for employee_id, hasil_kerja, perilaku in scoped(
            MonthlyEvaluation.objects.filter(year=year, month=month)
        ).values_list("employee_id", "hasil_kerja", "perilaku")
    }
    items: dict[int, list[rules.RealisationItem]] = {}
    for employee_id, result_id, text, target, unit in (
        SkpIndicator.objects.filter(result__skp__year=year, result__skp__status=Skp.Status.AGREED)
        .filter(**({} if employee_ids is None else {"result__skp__employee_id__in": ids}))
        .order_by("result__skp__employee_id", "result__order", "result_id", "pk")
        .values_list("result__skp__employee_id", "result_id", "text", "target", "unit")
    ):
        items.setdefault(employee_id, []).append(
            rules.RealisationItem(
                label=text,
                yearly_target=target,
                realised=realised.get((result_id, unit.strip().casefold()), Decimal(0)),
            )
        )

    months: dict[int, rules.KinerjaMonth] = {}
    for employee_id in ids:
        held = posts.get(employee_id, [])
        in_post = sum(
            1 for d in working if any(f <= d and (t is None or d < t) for f, t, _j, _k in held)
        )
        got = dict(zip(counted, sums.get(employee_id, [0] * len(counted)), strict=True))
        blocked = excluded.get(employee_id, [])
        months[employee_id] = rules.KinerjaMonth(
            year=year,
            month=month,
            working_days=len(working),
            days_in_post=in_post,
            totals=rules.ReportTotals(
                pending=got["pending"],
                approved=got["approved"],
                rejected=got["rejected"],
                pending_minutes=got["pending_minutes"],
                rejected_minutes=got["rejected_minutes"],
                approved_minutes=got["approved_minutes"] - sum(m for *_d, m in blocked),
                excluded_minutes=sum(m for *_d, m in blocked),
                excluded_days=tuple((day, code) for day, code, _m in blocked),
            ),
            hasil_kerja=cast(Any, ratings.get(employee_id, (None, None))[0]),
            perilaku=cast(Any, ratings.get(employee_id, (None, None))[1]),
            realisation=tuple(items.get(employee_id, ())),
            jabatan=held[-1][2] if held else "",
            unit_kind=held[-1][3] if held else "",
        )
    return policy, months


def month_gather(
    employee: Employee, year: int, month: int
) -> tuple[KinerjaPolicy, rules.KinerjaMonth]:
    """Fetch one employee's month: `months_gather` for one, so one and many agree."""
    policy, months = months_gather(year, month, [employee.pk])
    return policy, months[employee.pk]


def month_facts(employee: Employee, year: int, month: int) -> MonthFacts:
    """Fetch then calculate, without storing: for "my month" and the team view."""
    policy, month_input = month_gather(employee, year, month)
    return MonthFacts(policy, month_input, rules.kinerja_month_evaluate(month_input, policy))


def team_month(user: Any, year: int, month: int) -> QuerySet[MonthlyEvaluation]:
    """Stored evaluations of the people the user may see, for the team and OPD views."""
    return (
        MonthlyEvaluation.objects.filter(
            employee__in=access.employees_visible_to(user), year=year, month=month
        )
        .select_related("employee")
        .order_by("employee__name")
    )


def unit_kind_labels() -> dict[str, str]:
    return {str(k): str(v) for k, v in Unit.Kind.choices}


def month_of(value: str, now: datetime) -> tuple[int, int]:
    """A "YYYY-MM" query value, or the current month."""
    try:
        first = date.fromisoformat(value + "-01")
    except ValueError:
        first = timezone.localdate(now).replace(day=1)
    return first.year, first.month
