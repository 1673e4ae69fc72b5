"""e-Kinerja pages: my reports and month, the supervisor's review queue, the team/OPD month
view (XLSX too), the SKP, and the attachment download. Views parse, scope and call one service
or selector; a record outside the user's scope answers 404."""

from datetime import date
from uuid import uuid4

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tepat.accounts import access
from tepat.accounts.models import AuthedRequest
from tepat.kinerja import selectors, services
from tepat.kinerja.forms import (
    BulkForm,
    DecisionForm,
    RatingForm,
    ReportForm,
    ResultForm,
    SkpDecisionForm,
)
from tepat.kinerja.models import DailyReport
from tepat.kinerja.policy import kinerja_policy_on
from tepat.org.models import Employee
from tepat.rules.kinerja_policy import PREDICATE_LABELS
from tepat.uploads import private_download


def _employee(request: AuthedRequest) -> Employee:
    if request.user.employee is None:
        raise PermissionDenied(_("This page is for accounts of employees."))
    return request.user.employee


def _errors(request: AuthedRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
@require_GET
def my_month(request: AuthedRequest) -> HttpResponse:
    """My reports of a month, day by day, with the month's minutes and predicate so far."""
    employee = _employee(request)
    year, month = selectors.month_of(request.GET.get("bulan", ""), timezone.now())
    first, last = selectors.month_bounds(year, month)
    reports = list(selectors.own_reports(employee, first, last))
    days: dict[date, list[DailyReport]] = {}
    for report in reports:
        days.setdefault(report.day, []).append(report)
    facts = selectors.month_facts(employee, year, month)
    return render(
        request,
        "kinerja/my_month.html",
        {
            "first": first,
            "days": sorted(days.items(), reverse=True),
            "result": facts.result,
            "predicate": PREDICATE_LABELS.get(facts.result.predicate)
            if facts.result.predicate
            else "",
            "policy": facts.policy,
        },
    )


def _report_form_page(
    request: AuthedRequest, employee: Employee, report: DailyReport | None
) -> HttpResponse:
    day = report.day if report else timezone.localdate()
    initial = (
        {
            "day": report.day,
            "start_time": report.start_time,
            "end_time": report.end_time,
            "minutes": None if report.start_time else report.minutes,
            "skp_result": report.skp_result_id,
            "activity": report.activity,
            "output": report.output,
            "quantity": report.quantity,
            "unit": report.unit,
        }
        if report
        else {"day": day}
    )
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        results=selectors.results_of(employee),
    )
    if request.method == "POST" and "withdraw" in request.POST and report is not None:
        try:
            services.report_delete(actor=request.user, report=report)
        except ValidationError as exc:
            _errors(request, exc)
            return redirect(request.path)
        messages.success(request, _("The report was withdrawn."))
        return redirect("kinerja:my_month")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = data["skp_result"]
        fields = services.ReportInput(
            client_id=report.client_id if report else uuid4(),
            day=data["day"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            minutes=data["minutes"],
            skp_result_id=chosen.pk if chosen else None,
            activity=data["activity"],
            output=data["output"],
            quantity=data["quantity"],
            unit=data["unit"],
            attachment=data["attachment"],
        )
        try:
            if report is None:
                services.report_create(
                    actor=request.user, employee=employee, data=fields, source="web"
                )
            else:
                services.report_update(actor=request.user, report=report, data=fields)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The report was saved and waits for your supervisor."))
            return redirect("kinerja:my_month")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "kinerja/report_form.html", {"form": form, "report": report}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: AuthedRequest) -> HttpResponse:
    return _report_form_page(request, _employee(request), None)


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: AuthedRequest, report_id: int) -> HttpResponse:
    """One's own report: shown always, changed or withdrawn while it waits for review."""
    employee = _employee(request)
    report = get_object_or_404(DailyReport, pk=report_id, employee=employee)
    if report.status != DailyReport.Status.PENDING:
        return render(request, "kinerja/report_detail.html", {"report": report})
    return _report_form_page(request, employee, report)


@login_required
@require_GET
def attachment_download(request: AuthedRequest, report_id: int) -> HttpResponseBase:
    """A report's attachment, for whoever may see the report: always a download, never shown
    inline, so a crafted file can never act as a page."""
    report = selectors.report_for_user(request.user, report_id)
    if not report.attachment:
        raise PermissionDenied(_("This report has no attachment."))
    extension = report.attachment.rsplit(".", 1)[-1]
    return private_download(
        report.attachment,
        filename=f"lampiran-{report.employee.nip}-{report.day:%Y%m%d}-{report.pk}.{extension}",
        content_type=report.attachment_type or "application/octet-stream",
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_queue(request: AuthedRequest) -> HttpResponse:
    """Pending reports of the people the user supervises (or stands in for as Plt)."""
    today = timezone.localdate()
    pending = access.reports_decidable_by(request.user, today)
    if request.method == "POST":
        if "bulk" in request.POST:
            bulk = BulkForm(request.POST)
            if bulk.is_valid():
                chosen = pending
                if bulk.cleaned_data["day"]:
                    chosen = chosen.filter(day=bulk.cleaned_data["day"])
                if bulk.cleaned_data["employee"]:
                    chosen = chosen.filter(employee_id=bulk.cleaned_data["employee"])
                n = services.reports_bulk_approve(actor=request.user, reports=list(chosen))
                messages.success(request, _("%(n)s reports approved.") % {"n": n})
                return redirect(request.path)
        else:
            form = DecisionForm(request.POST)
            if form.is_valid():
                report = get_object_or_404(pending, pk=form.cleaned_data["item"])
                try:
                    services.report_decide(
                        actor=request.user,
                        report=report,
                        decision=form.cleaned_data["decision"],
                        reason=form.cleaned_data["reason"],
                        minutes=form.cleaned_data["minutes"],
                    )
                except ValidationError as exc:
                    _errors(request, exc)
                else:
                    messages.success(request, _("The decision was saved."))
                return redirect(request.path)
        messages.error(request, _("The request is not valid."))
        return redirect(request.path)
    items = list(pending[:300])
    policy = kinerja_policy_on(today)
    overdue = {
        r.pk
        for r in items
        if (timezone.now() - r.received_at).days >= policy.review.reminder_after_days
    }
    acting = any(access.report_decider_role(request.user, r, today) == "plt" for r in items[:50])
    return render(
        request,
        "kinerja/review_queue.html",
        {
            "items": items,
            "overdue": overdue,
            "acting": acting,
            "days": sorted({r.day for r in items}),
            "people": sorted(
                {(r.employee_id, r.employee.full_name) for r in items}, key=lambda p: p[1]
            ),
            "skps": selectors.skps_decidable_by(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_month(request: AuthedRequest) -> HttpResponse:
    """The month of the people the user may see: the atasan's team, the OPD for its head and
    operator, everyone for BKPSDM. Direct subordinates are rated here. The XLSX is a requested
    export (``tepat.exports``)."""
    year, month = selectors.month_of(
        request.GET.get("bulan", "") or request.POST.get("bulan", ""), timezone.now()
    )
    if request.method == "POST":
        form = RatingForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("The request is not valid."))
            return redirect(request.get_full_path())
        employee = access.employee_for_user(request.user, form.cleaned_data["employee"])
        try:
            services.month_rate(
                actor=request.user,
                employee=employee,
                year=year,
                month=month,
                hasil_kerja=form.cleaned_data["hasil_kerja"],
                perilaku=form.cleaned_data["perilaku"],
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("The rating was saved."))
        return redirect(f"{request.path}?bulan={year:04d}-{month:02d}")
    rows = list(selectors.team_month(request.user, year, month)[:2000])
    first, _last = selectors.month_bounds(year, month)
    direct: set[int] = set()
    if request.user.employee_id is not None:
        direct = set(
            access.current_assignments(first)
            .filter(supervisor_id=request.user.employee_id)
            .values_list("employee_id", flat=True)
        )
    return render(
        request,
        "kinerja/team_month.html",
        {"rows": rows, "first": first, "direct": direct, "rating_form": RatingForm()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def skp_page(request: AuthedRequest) -> HttpResponse:
    """My SKP for a year: start it (from last year's), add and remove results, submit."""
    employee = _employee(request)
    try:
        year = int(
            request.GET.get("tahun") or request.POST.get("tahun") or timezone.localdate().year
        )
    except ValueError:
        year = timezone.localdate().year
    skp = selectors.skp_of(employee, year)
    supervisor_results = selectors.supervisor_results(employee, year)
    form = ResultForm(supervisor_results=supervisor_results)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create":
                services.skp_create(actor=request.user, employee=employee, year=year)
            elif action == "add" and skp is not None:
                form = ResultForm(request.POST, supervisor_results=supervisor_results)
                if not form.is_valid():
                    return render(
                        request,
                        "kinerja/skp.html",
                        {"skp": skp, "year": year, "form": form},
                        status=400,
                    )
                data = form.cleaned_data
                services.skp_result_add(
                    actor=request.user,
                    skp=skp,
                    text=data["text"],
                    intervensi=data["intervensi"],
                    indicators=[
                        services.IndicatorInput(data["indicator"], data["target"], data["unit"])
                    ],
                )
            elif action == "remove" and skp is not None:
                result = get_object_or_404(skp.results.all(), pk=request.POST.get("result", 0))
                services.skp_result_delete(actor=request.user, result=result)
            elif action == "submit" and skp is not None:
                services.skp_submit(actor=request.user, skp=skp)
            else:
                messages.error(request, _("The request is not valid."))
        except ValidationError as exc:
            _errors(request, exc)
        return redirect(f"{request.path}?tahun={year}")
    return render(request, "kinerja/skp.html", {"skp": skp, "year": year, "form": form})


@login_required
@require_http_methods(["POST"])
def skp_decide(request: AuthedRequest) -> HttpResponse:
    """The supervisor agrees or returns a subordinate's submitted SKP (listed in the queue)."""
    form = SkpDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request is not valid."))
        return redirect("kinerja:review_queue")
    skp = get_object_or_404(selectors.skps_decidable_by(request.user), pk=form.cleaned_data["item"])
    try:
        services.skp_decide(
            actor=request.user,
            skp=skp,
            agree=form.cleaned_data["decision"] == "agree",
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("The decision was saved."))
    return redirect("kinerja:review_queue")
