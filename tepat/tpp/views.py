"""e-TPP pages: the monthly runs (start, progress, per-OPD results, a recompute's difference
and its acceptance) and, for every employee, "why is my TPP this amount?". Views parse, scope
through `tepat.accounts.access` and call one service or selector."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tepat.accounts import access
from tepat.accounts.models import OPD_SCOPED_ROLES, AuthedRequest
from tepat.tpp import nominatif, selectors, services, submissions
from tepat.tpp.models import TppRun, TppSubmission


def _errors(request: AuthedRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _staff_only(request: AuthedRequest) -> None:
    access.require_role(request.user, access.TPP_RUN_VIEWER_ROLES)


@login_required
@require_GET
def run_list(request: AuthedRequest) -> HttpResponse:
    """The monthly runs, newest first; BKPSDM starts a run here."""
    _staff_only(request)
    runs = access.tpp_runs_visible_to(request.user).select_related("policy", "started_by")[:60]
    return render(
        request,
        "tpp/run_list.html",
        {"runs": runs, "can_run": request.user.role in access.TPP_ADMIN_ROLES},
    )


@login_required
@require_POST
def run_start(request: AuthedRequest) -> HttpResponse:
    access.require_role(request.user, access.TPP_ADMIN_ROLES)
    try:
        first = date.fromisoformat(request.POST.get("bulan", "") + "-01")
    except ValueError:
        messages.error(request, _("Month must be given as YYYY-MM."))
        return redirect("tpp:run_list")
    try:
        run = services.tpp_run_start(actor=request.user, year=first.year, month=first.month)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("tpp:run_list")
    messages.success(request, _("The run is queued; this page shows its progress."))
    return redirect("tpp:run_detail", run_id=run.pk)


@login_required
@require_GET
def run_detail(request: AuthedRequest, run_id: int) -> HttpResponse:
    """Progress while computing; then totals per OPD and, for a recompute, who changes."""
    run = access.tpp_run_for_user(request.user, run_id)
    visible = access.tpp_results_visible_to(request.user)
    in_run = visible.filter(run=run)
    changes = selectors.run_changes(run, visible) if run.status == TppRun.Status.COMPUTED else []
    return render(
        request,
        "tpp/run_detail.html",
        {
            "run": run,
            "busy": run.status in {TppRun.Status.QUEUED, TppRun.Status.RUNNING},
            "totals": selectors.opd_totals(in_run),
            "changes": changes,
            "can_accept": request.user.role in access.TPP_ADMIN_ROLES
            and run.status == TppRun.Status.COMPUTED,
        },
    )


@login_required
@require_POST
def run_accept(request: AuthedRequest, run_id: int) -> HttpResponse:
    run = access.tpp_run_for_user(request.user, run_id)
    try:
        services.tpp_run_accept(actor=request.user, run=run)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("The run is accepted: its results now count for the month."))
        locked = submissions.locked_submissions(run.year, run.month)
        if locked:
            messages.warning(
                request,
                _(
                    "Locked by an approved payment request, these OPDs keep the results they "
                    "are paid on; each difference is carried into the next month: %(opds)s."
                )
                % {"opds": ", ".join(s.opd.name for s in locked)},
            )
    return redirect("tpp:run_detail", run_id=run.pk)


@login_required
@require_GET
def run_opd(request: AuthedRequest, run_id: int, opd_id: int) -> HttpResponse:
    """One OPD's results of a run, person by person."""
    run = access.tpp_run_for_user(request.user, run_id)
    opd = get_object_or_404(access.opds_visible_to(request.user), pk=opd_id)
    results = (
        access.tpp_results_visible_to(request.user)
        .filter(run=run, opd=opd)
        .select_related("employee")
        .order_by("employee__name")
    )
    return render(request, "tpp/run_opd.html", {"run": run, "opd": opd, "results": results})


@login_required
@require_GET
def result_detail(request: AuthedRequest, result_id: int) -> HttpResponse:
    result = access.tpp_result_for_user(request.user, result_id)
    return render(request, "tpp/result_detail.html", {"result": result, "mine": False})


@login_required
@require_GET
def my_tpp(request: AuthedRequest) -> HttpResponse:
    """Why is my TPP this amount? The accepted months, the chosen one explained line by line."""
    if request.user.employee_id is None:
        raise PermissionDenied(_("This page is for accounts of employees."))
    months = list(selectors.accepted_results_of(request.user.employee_id))
    chosen = months[0] if months else None
    wanted = request.GET.get("bulan", "")
    for result in months:
        if f"{result.run.year}-{result.run.month:02d}" == wanted:
            chosen = result
    return render(request, "tpp/my_tpp.html", {"months": months, "result": chosen, "mine": True})


# --- payment requests (pengajuan) ---------------------------------------------------------------

_STEPS = {
    "siap": (
        submissions.tpp_submission_ready,
        gettext_lazy("The payment request is marked ready."),
    ),
    "setujui": (
        submissions.tpp_submission_approve,
        gettext_lazy("The payment request is approved; the month is locked for this OPD."),
    ),
    "verifikasi": (
        submissions.tpp_submission_verify,
        gettext_lazy("The payment request is verified."),
    ),
    "ekspor": (
        submissions.tpp_submission_export,
        gettext_lazy("The payment request is exported for BPKAD."),
    ),
}


@login_required
@require_GET
def submission_list(request: AuthedRequest) -> HttpResponse:
    """The payment requests the user may see, and the form to open one for a month."""
    _staff_only(request)
    rows = (
        access.tpp_submissions_visible_to(request.user)
        .select_related("opd", "run")
        .order_by("-year", "-month", "opd__name")[:200]
    )
    return render(
        request,
        "tpp/submission_list.html",
        {
            "submissions": rows,
            "can_open": request.user.role in access.TPP_SUBMISSION_PREPARER_ROLES,
            "opds": access.opds_visible_to(request.user).order_by("name"),
        },
    )


@login_required
@require_POST
def submission_open(request: AuthedRequest) -> HttpResponse:
    access.require_role(request.user, access.TPP_SUBMISSION_PREPARER_ROLES)
    try:
        first = date.fromisoformat(request.POST.get("bulan", "") + "-01")
        opd_id = int(request.POST.get("opd") or request.user.opd_id or 0)
    except ValueError:
        messages.error(request, _("Month must be given as YYYY-MM."))
        return redirect("tpp:submission_list")
    opd = get_object_or_404(access.opds_visible_to(request.user), pk=opd_id)
    try:
        submission = submissions.tpp_submission_open(
            actor=request.user, opd=opd, year=first.year, month=first.month
        )
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("tpp:submission_list")
    return redirect("tpp:submission_detail", submission_id=submission.pk)


@login_required
@require_GET
def submission_detail(request: AuthedRequest, submission_id: int) -> HttpResponse:
    """One OPD's month: the people and amounts to pay, the steps so far, the next step."""
    submission = access.tpp_submission_for_user(request.user, submission_id)
    results = selectors.submission_results(submission)
    role = request.user.role
    mine = role not in OPD_SCOPED_ROLES or request.user.opd_id == submission.opd_id
    status = submission.status
    Status = TppSubmission.Status
    can = {
        "siap": status in {Status.DRAFT, Status.RETURNED}
        and role in access.TPP_SUBMISSION_PREPARER_ROLES,
        "setujui": status == Status.READY and role in access.TPP_SUBMISSION_APPROVER_ROLES,
        "verifikasi": status == Status.APPROVED and role in access.TPP_SUBMISSION_VERIFIER_ROLES,
        "ekspor": status == Status.VERIFIED and role in access.TPP_SUBMISSION_VERIFIER_ROLES,
    }
    can_return = (status == Status.READY and role in access.TPP_SUBMISSION_APPROVER_ROLES) or (
        status in {Status.APPROVED, Status.VERIFIED}
        and role in access.TPP_SUBMISSION_VERIFIER_ROLES
    )
    return render(
        request,
        "tpp/submission_detail.html",
        {
            "submission": submission,
            "results": results,
            "totals": selectors.opd_totals(results),
            "steps": submission.steps.select_related("actor").order_by("at", "pk"),
            "actions": [name for name, allowed in can.items() if allowed and mine],
            "can_return": can_return and mine,
            "month_label": submissions.month_label(submission.year, submission.month),
        },
    )


@login_required
@require_POST
def submission_step(request: AuthedRequest, submission_id: int, step: str) -> HttpResponse:
    """One step of the request (siap, setujui, verifikasi, ekspor, kembalikan) with its note."""
    submission = access.tpp_submission_for_user(request.user, submission_id)
    note = request.POST.get("catatan", "")[:2000]
    try:
        if step == "kembalikan":
            submissions.tpp_submission_return(
                actor=request.user, submission=submission, reason=note
            )
            done = _("The payment request is returned to the OPD.")
        elif step in _STEPS:
            service, lazy_done = _STEPS[step]
            done = str(lazy_done)
            service(actor=request.user, submission=submission, note=note)
        else:
            raise Http404(_("Unknown step."))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, done)
    return redirect("tpp:submission_detail", submission_id=submission.pk)


_DOWNLOADS = {
    "xlsx": (
        "nominatif-tpp",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "pdf": ("nominatif-tpp", "pdf", "application/pdf"),
    "csv": ("transfer-bank-tpp", "csv", "text/csv; charset=utf-8"),
}


@login_required
@require_GET
def submission_download(request: AuthedRequest, submission_id: int, kind: str) -> HttpResponse:
    """The daftar nominatif (XLSX, PDF) and the bank-transfer CSV of a payment request."""
    submission = access.tpp_submission_for_user(request.user, submission_id)
    if kind not in _DOWNLOADS:
        raise Http404(_("Unknown file."))
    stem, extension, content_type = _DOWNLOADS[kind]
    sheet = selectors.submission_sheet(submission)
    if kind == "xlsx":
        content = nominatif.nominatif_xlsx(sheet)
    elif kind == "pdf":
        content = nominatif.nominatif_pdf(sheet)
    else:
        content = nominatif.bank_transfer_csv([sheet])
    code = slugify(submission.opd.code) or f"opd-{submission.opd_id}"
    name = f"{stem}-{code}-{submission.year}-{submission.month:02d}.{extension}"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
