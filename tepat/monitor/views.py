"""Monitor pages: today's presence (live), discipline, alerts and the monthly report.

Every page starts from a queryset of ``tepat.accounts.access``: BKPSDM sees the regency, a
Kepala OPD or OPD operator their own OPD; another OPD's page answers 404.
"""

from datetime import date
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from tepat import list_filters
from tepat.accounts import access
from tepat.accounts.models import OPD_SCOPED_ROLES, REGENCY_WIDE_ROLES, AuthedRequest
from tepat.monitor import charts, exports, live, selectors, services, summary
from tepat.monitor.forms import SanctionCorrectionForm, SanctionForm
from tepat.monitor.models import AlertAction, DisciplineAlert, Notification, Sanction
from tepat.org.models import Employee, Opd

# Who watches today's presence: BKPSDM for the regency, the Kepala OPD and the OPD operator
# for their OPD. An atasan sees their team in the recap and the discipline list instead.
DASHBOARD_ROLES = OPD_SCOPED_ROLES | REGENCY_WIDE_ROLES
POLL_MS_DEFAULT = 30_000
LIST_PAGE = 100  # names per page of an OPD's list
# Statuses whose rows show the phone's last contact and the site's machine.
ABSENT_STATUSES = frozenset({"not_yet", "queued", "review"})


def _poll_ms() -> int:
    return int(getattr(settings, "TEPAT_MONITOR_POLL_MS", POLL_MS_DEFAULT))


def _cells(prefix: str, tallies: list[live.Tally]) -> dict[str, int]:
    cells: dict[str, int] = {}
    for t in tallies:
        for status, n in t.counts.items():
            cells[f"{prefix}-{t.key}-{status}"] = n
        cells[f"{prefix}-{t.key}-present"] = t.present
        cells[f"{prefix}-{t.key}-expected"] = t.expected
    return cells


def _regency_view(user: Any) -> dict[str, Any]:
    now = timezone.now()
    summary.presence_refresh(now)
    day = timezone.localdate(now)
    opds = access.opds_visible_to(user).filter(active=True).order_by("name")
    found = summary.counts(access.opds_visible_to(user), day, "opd_id")
    tallies = live.tally_counts(found, {o.pk: o.name for o in opds})
    return {"now": now, "tallies": tallies, "total": live.total_of(tallies)}


def _opd_view(user: Any, opd: Opd) -> dict[str, Any]:
    now = timezone.now()
    summary.presence_refresh(now)
    day = timezone.localdate(now)
    found = summary.counts(access.opds_visible_to(user), day, "unit_id", opd.pk)
    # Only units with people today: an OPD with 200 schools would otherwise list empty ones.
    units = access.units_visible_to(user).filter(opd=opd, pk__in=list(found)).order_by("name")
    tallies = live.tally_counts(found, {u.pk: u.name for u in units})
    return {"now": now, "tallies": tallies, "total": live.total_of(tallies)}


@login_required
@require_GET
def dashboard(request: AuthedRequest) -> HttpResponse:
    """Today's presence per OPD for BKPSDM, or the user's own OPD, updated without reload."""
    access.require_role(request.user, DASHBOARD_ROLES)
    context = _regency_view(request.user)
    context.update(statuses=live.STATUS_LABELS, poll_ms=_poll_ms(), source="monitor:dashboard_data")
    return render(request, "monitor/dashboard.html", context)


@login_required
@require_GET
def dashboard_data(request: AuthedRequest) -> JsonResponse:
    """The dashboard's numbers as JSON, polled by live.js: ``?opd=<id>`` for one OPD's units."""
    access.require_role(request.user, DASHBOARD_ROLES)
    opd_param = request.GET.get("opd", "")
    if opd_param:
        opd = get_object_or_404(
            access.opds_visible_to(request.user), pk=int(opd_param) if opd_param.isdigit() else 0
        )
        context = _opd_view(request.user, opd)
        cells = _cells("unit", context["tallies"])
    else:
        context = _regency_view(request.user)
        cells = _cells("opd", context["tallies"])
    cells.update(_cells("all", [context["total"]]))
    now = timezone.localtime(context["now"])
    return JsonResponse(
        {"day": now.date().isoformat(), "generated_at": f"{now:%H:%M:%S}", "cells": cells}
    )


@login_required
@require_GET
def opd_detail(request: AuthedRequest, opd_id: int) -> HttpResponse:
    """One OPD today: per unit, and by name; the not-checked-in with their phone's last
    contact and their site's machine."""
    access.require_role(request.user, DASHBOARD_ROLES)
    opd = get_object_or_404(access.opds_visible_to(request.user), pk=opd_id)
    context = _opd_view(request.user, opd)
    wanted = request.GET.get("status", "not_yet")
    if wanted not in live.STATUS_LABELS and wanted != "all":
        wanted = "not_yet"
    unit_param = request.GET.get("unit", "")
    day = timezone.localdate(context["now"])
    page_param = request.GET.get("hal", "1")
    page = max(1, min(int(page_param), 10_000)) if page_param.isdigit() else 1
    shown, count = summary.presence_list(
        access.opds_visible_to(request.user),
        day,
        opd.pk,
        status=None if wanted == "all" else wanted,
        unit_id=int(unit_param) if unit_param.isdigit() else None,
        page=page,
        per_page=LIST_PAGE,
    )
    absent = [r.employee_id for r in shown if r.status in ABSENT_STATUSES]
    phones = selectors.phone_contacts(absent)
    machines = selectors.site_machine_status({r.unit_id for r in shown}, timezone.now())
    pages = max(1, -(-count // LIST_PAGE))
    context.update(
        opd=opd,
        entries=[
            {
                "row": r,
                "label": live.STATUS_LABELS[r.status],
                "absent": r.status in ABSENT_STATUSES,
                "phone": phones.get(r.employee_id),
                "machines": machines.get(r.unit_id),
            }
            for r in shown
        ],
        count=count,
        page=page,
        pages=pages,
        first_shown=(page - 1) * LIST_PAGE + 1 if shown else 0,
        last_shown=(page - 1) * LIST_PAGE + len(shown),
        wanted=wanted,
        unit_id=int(unit_param) if unit_param.isdigit() else None,
        statuses=live.STATUS_LABELS,
        poll_ms=_poll_ms(),
    )
    return render(request, "monitor/opd_detail.html", context)


@login_required
@require_GET
def discipline_list(request: AuthedRequest) -> HttpResponse:
    """People heading for a PP 94/2021 sanction, the most serious first: this year's TK
    working days (in a row, and in all), the level reached with its article, what comes next."""
    today = timezone.localdate()
    employees = access.employees_visible_to(request.user, today)
    opds = access.opds_visible_to(request.user)
    opd = list_filters.opd_param(request, opds)
    if opd is not None:
        employees = employees.filter(
            id__in=access.current_assignments(today).filter(opd=opd).values("employee_id")
        )
    policy = selectors.discipline_policy()
    # Counted for everyone with a TK day (the database narrows to them), then paged: the
    # order is by how serious, which only the rules core knows. Posts only for the page.
    page = list_filters.page_of(
        request, selectors.discipline_ranked(employees, today, policy=policy)
    )
    rows = selectors.discipline_rows_of(page.object_list, today, policy=policy)
    return render(
        request,
        "monitor/discipline_list.html",
        {"rows": rows, "page": page, "today": today, "opds": opds, "opd": opd,
         "policy": policy},
    )  # fmt: skip


@login_required
@require_GET
def discipline_detail(request: AuthedRequest, employee_id: int) -> HttpResponse:
    """One employee's TK days this year and every threshold crossed, with its article."""
    today = timezone.localdate()
    employee = access.employee_for_user(request.user, employee_id, today)
    policy = selectors.discipline_policy()
    rows = selectors.discipline_rows(Employee.objects.filter(pk=employee.pk), today, policy=policy)
    may_record = access.employees_sanctionable_by(request.user).filter(pk=employee.pk).exists()
    return render(
        request,
        "monitor/discipline_detail.html",
        {"employee": employee, "row": rows[0] if rows else None, "today": today,
         "policy": policy, "sanctions": selectors.sanctions_of(employee.pk),
         "may_record": may_record},
    )  # fmt: skip


# --- the sanction decided --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def sanction_new(request: AuthedRequest, employee_id: int) -> HttpResponse:
    """BKPSDM records the sanction decided (the SK) for one employee; the alert it answers is
    closed with it."""
    employee = get_object_or_404(access.employees_sanctionable_by(request.user), pk=employee_id)
    policy = selectors.discipline_policy()
    alerts = DisciplineAlert.objects.filter(employee=employee).exclude(
        status=DisciplineAlert.Status.WITHDRAWN
    )
    initial = {}
    alert_param = request.GET.get("peringatan", "")
    if alert_param.isdigit():
        initial["alert"] = alerts.filter(pk=int(alert_param)).first()
    form = SanctionForm(
        request.POST or None,
        initial=initial,
        kinds=policy.sanction_kinds_for(selectors.employee_kind(employee)),
        alerts=alerts,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.sanction_record(
                    actor=request.user,
                    employee=employee,
                    decision=form.decision(),
                    alert=form.cleaned_data["alert"],
                    policy=policy,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The sanction is recorded."))
                return redirect("monitor:discipline_detail", employee_id=employee.pk)
        status = 400
    return render(
        request,
        "monitor/sanction_form.html",
        {"employee": employee, "form": form, "original": None},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def sanction_correct(request: AuthedRequest, sanction_id: int) -> HttpResponse:
    """Correct or annul a recorded sanction: a new row replaces it; the old one stays."""
    original = get_object_or_404(
        Sanction.objects.filter(
            employee__in=access.employees_sanctionable_by(request.user)
        ).select_related("employee"),
        pk=sanction_id,
    )
    employee = original.employee
    policy = selectors.discipline_policy()
    form = SanctionCorrectionForm(
        request.POST or None,
        initial={
            "kind": original.kind, "decree_number": original.decree_number,
            "decided_on": original.decided_on, "effective_from": original.effective_from,
            "months": original.months,
        },
        kinds=policy.sanction_kinds_for(selectors.employee_kind(employee)),
    )  # fmt: skip
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.sanction_correct(
                    actor=request.user,
                    sanction=original,
                    decision=None if form.cleaned_data["annul"] else form.decision(),
                    reason=form.cleaned_data["reason"],
                    policy=policy,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The correction is recorded."))
                return redirect("monitor:discipline_detail", employee_id=employee.pk)
        status = 400
    return render(
        request,
        "monitor/sanction_form.html",
        {"employee": employee, "form": form, "original": original},
        status=status,
    )


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: per field where it names one."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- what waits for a decision ----------------------------------------------------------------

QUEUE_PAGES = {
    "checkins": (gettext_lazy("Flagged check-ins"), "presence_office:review_list"),
    "absences": (gettext_lazy("Absence requests"), "presence_office:absence_queue"),
    "reports": (gettext_lazy("Daily work reports"), "kinerja:review_queue"),
    "machine_flags": (gettext_lazy("Machine signals"), "presence_office:machine_flags"),
}


@login_required
@require_GET
def review_overview(request: AuthedRequest) -> HttpResponse:
    """What waits for a decision, per OPD: how many and since when, with links to the queues.
    BKPSDM sees the regency, a Kepala OPD or OPD operator their own OPD."""
    access.require_role(request.user, DASHBOARD_ROLES)
    today = timezone.localdate()
    opds = dict(access.opds_visible_to(request.user).values_list("pk", "name"))
    backlog = selectors.review_backlog(
        employees=access.employees_visible_to(request.user, today),
        machines=access.machines_visible_to(request.user),
        opds=opds,
        on=today,
    )
    return render(
        request,
        "monitor/review_overview.html",
        {"backlog": backlog, "totals": selectors.backlog_totals(backlog), "queues": QUEUE_PAGES},
    )


# --- trends ----------------------------------------------------------------------------------

TREND_SERIES = (
    ("tk", gettext_lazy("TK: absent without a valid reason"), "#a01818", ""),
    ("tl", gettext_lazy("TL: arrived late"), "#b54708", "10 5"),
    ("psw", gettext_lazy("PSW: left early"), "#1d4ed8", "3 5"),
)


@login_required
@require_GET
def trends(request: AuthedRequest) -> HttpResponse:
    """TK, TL and PSW working days per month over a year, for the user's OPDs together or one
    OPD: a chart drawn on the server, the numbers in a table beside it, and each OPD's year."""
    access.require_role(request.user, DASHBOARD_ROLES)
    today = timezone.localdate()
    year_param = request.GET.get("tahun", "")
    year = today.year
    if year_param.isdigit() and 2000 <= int(year_param) <= today.year:
        year = int(year_param)
    until = min(today, date(year, 12, 31))
    opds = dict(access.opds_visible_to(request.user).values_list("pk", "name"))
    by_opd = selectors.monthly_trend(
        access.employees_visible_to(request.user, until), year, until, opds
    )
    opd_param = request.GET.get("opd", "")
    chosen = next((t for t in by_opd if opd_param.isdigit() and t.opd_id == int(opd_param)), None)
    if chosen is None and opd_param.isdigit() and int(opd_param) in opds:
        chosen = selectors.OpdTrend(int(opd_param), opds[int(opd_param)], {})
    shown = chosen.months if chosen else selectors.months_summed(by_opd)
    months = range(1, until.month + 1)
    x_labels = [formats.date_format(date(year, m, 1), "M") for m in range(1, 13)]
    chart = charts.line_chart(
        x_labels,
        [
            charts.Series(key, str(label), [
                getattr(shown.get(m, selectors.MonthCounts()), key) if m in months else None
                for m in range(1, 13)
            ], colour, dash)
            for key, label, colour, dash in TREND_SERIES
        ],
    )  # fmt: skip
    return render(
        request,
        "monitor/trends.html",
        {
            "chart": chart, "year": year, "years": range(today.year, today.year - 5, -1),
            "chosen": chosen, "opds": opds,
            "table": [(x_labels[m - 1], shown.get(m, selectors.MonthCounts())) for m in months],
            "by_opd": by_opd,
        },
    )  # fmt: skip


# --- alerts ----------------------------------------------------------------------------------


class AlertActionForm(forms.Form):
    kind = forms.ChoiceField(choices=AlertAction.Kind.choices)
    note = forms.CharField(
        label=gettext_lazy("What was done"), max_length=2000, required=False, widget=forms.Textarea
    )


def _alerts_visible(user: Any) -> QuerySet[DisciplineAlert]:
    today = timezone.localdate()
    return DisciplineAlert.objects.filter(
        employee__in=access.employees_visible_to(user, today)
    ).select_related("employee", "opd", "supervisor")


ALERT_FILTERS: dict[str, list[str]] = {
    "aktif": [DisciplineAlert.Status.OPEN, DisciplineAlert.Status.ESCALATED],
    "semua": list(DisciplineAlert.Status.values),
}


@login_required
@require_GET
def alert_list(request: AuthedRequest) -> HttpResponse:
    """Discipline alerts about the people the user may see; open and escalated first."""
    show = request.GET.get("tampil", "aktif")
    statuses = ALERT_FILTERS.get(show, ALERT_FILTERS["aktif"])
    alerts = _alerts_visible(request.user).filter(status__in=statuses)
    page = Paginator(alerts.order_by("status", "-raised_at", "-pk"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "monitor/alert_list.html", {"page": page, "show": show})


@login_required
@require_http_methods(["GET", "POST"])
def alert_detail(request: AuthedRequest, alert_id: int) -> HttpResponse:
    """One alert, its history, and the form to record what was done about it."""
    alert = get_object_or_404(_alerts_visible(request.user), pk=alert_id)
    allowed = services.alert_actions_allowed(request.user, alert)
    form = AlertActionForm(request.POST or None)
    kind_field = cast(forms.ChoiceField, form.fields["kind"])
    kind_field.choices = [(k, label) for k, label in AlertAction.Kind.choices if k in allowed]
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied(_("You may not record anything on this alert."))
        if form.is_valid():
            try:
                services.alert_action_record(
                    actor=request.user,
                    alert=alert,
                    kind=form.cleaned_data["kind"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                form.add_error("note", exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("monitor:alert_detail", alert_id=alert.pk)
        status = 400
    else:
        status = 200
    return render(
        request,
        "monitor/alert_detail.html",
        {
            "alert": alert,
            "actions": alert.actions.select_related("actor").order_by("at", "pk"),
            "form": form if allowed else None,
            "sanctions": alert.sanctions.order_by("recorded_at", "pk"),
            "may_record_sanction": access.employees_sanctionable_by(request.user)
            .filter(pk=alert.employee_id)
            .exists(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: AuthedRequest) -> HttpResponse:
    """The user's own in-app notifications; POST marks them all read."""
    mine = (
        Notification.objects.filter(recipient=request.user, channel="in_app")
        .select_related("alert")
        .order_by("-created_at", "-pk")
    )
    if request.method == "POST":
        services.notification_mark_read(
            actor=request.user, notifications=mine.filter(read_at__isnull=True)
        )
        return redirect("monitor:notification_list")
    page = Paginator(mine, 50).get_page(request.GET.get("page"))
    return render(request, "monitor/notification_list.html", {"page": page})


# --- the monthly report ----------------------------------------------------------------------


@login_required
@require_GET
def report(request: AuthedRequest) -> HttpResponse:
    """The month's discipline recap per OPD on screen: counts up to the month's last day (or
    today, for the running month). Its XLSX and its PDF to sign are requested exports
    (``tepat.exports``), built by the worker."""
    access.require_role(request.user, DASHBOARD_ROLES)
    today = timezone.localdate()
    first = list_filters.month_param(request, today)
    opds = access.opds_visible_to(request.user)
    opd = list_filters.opd_param(request, opds)
    report = exports.report_month(request.user, first, opd, today)
    page = list_filters.page_of(request, report.lines)
    return render(
        request,
        "monitor/report.html",
        {"lines": page.object_list, "page": page, "recaps": exports.opd_recaps(report.lines),
         "first": first, "until": report.until, "opds": opds, "opd": opd},
    )  # fmt: skip
