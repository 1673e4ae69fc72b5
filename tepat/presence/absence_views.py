"""Pages for absence requests: mine and my balance, a new request (also on someone's behalf
for the OPD operator), the approval queue with bulk decisions, one request, its evidence."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tepat.accounts import access
from tepat.accounts.models import AuthedRequest
from tepat.presence import absences, selectors
from tepat.presence.forms import AbsenceDecisionForm, AbsenceForm
from tepat.presence.models import AbsenceRequest
from tepat.uploads import private_download


@login_required
@require_GET
def absence_list(request: AuthedRequest) -> HttpResponse:
    """My requests (and those I filed for others), with my cuti tahunan balance."""
    user = request.user
    balance = None
    if user.employee is not None:
        balance = absences.annual_leave_balance_for(user.employee, timezone.localdate().year)
    return render(
        request,
        "presence/absence_list.html",
        {
            "items": selectors.absence_requests_of(user)[:200],
            "balance": balance,
            "may_decide": access.absence_requests_decidable_by(user).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def absence_new(request: AuthedRequest) -> HttpResponse:
    employees = access.employees_absence_enterable_for(request.user)
    if not employees.exists():
        raise PermissionDenied(_("Your account is not linked to an employee."))
    policy = absences.leave_policy_in_force(timezone.localdate())
    form = AbsenceForm(
        request.POST or None, request.FILES or None, employees=employees, policy=policy
    )
    if request.method == "POST" and form.is_valid():
        try:
            filed = absences.absence_request_submit(
                actor=request.user,
                employee=form.cleaned_data["employee"],
                data=form.to_input(),
                evidence=form.cleaned_data.get("evidence"),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The request was sent for approval."))
            return redirect("presence_office:absence_detail", request_id=filed.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "presence/absence_form.html", {"form": form, "policy": policy}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def absence_queue(request: AuthedRequest) -> HttpResponse:
    """Requests waiting for my decision; tick several and approve them at once."""
    decidable = access.absence_requests_decidable_by(request.user)
    pending = selectors.absence_requests_for_queue(decidable)
    items = list(pending[:300])
    form = AbsenceDecisionForm(request.POST or None, ids=[r.pk for r in items])
    if request.method == "POST":
        if not form.is_valid() or not form.cleaned_data["ids"]:
            messages.error(request, _("Tick at least one request."))
            return render(
                request, "presence/absence_queue.html", {"items": items, "form": form}, status=400
            )
        done, problems = absences.absence_requests_bulk_decide(
            actor=request.user,
            request_ids=form.cleaned_data["ids"],
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
        )
        if done:
            messages.success(request, _("%(n)d request(s) decided.") % {"n": done})
        for problem in problems:
            messages.error(request, problem)
        return redirect(request.path)
    return render(request, "presence/absence_queue.html", {"items": items, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def absence_detail(request: AuthedRequest, request_id: int) -> HttpResponse:
    item = access.absence_request_for_user(request.user, request_id)
    form = AbsenceDecisionForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "withdraw":
                absences.absence_request_withdraw(actor=request.user, request_id=item.pk)
            elif form.is_valid():
                absences.absence_request_decide(
                    actor=request.user,
                    request_id=item.pk,
                    approve=form.cleaned_data["decision"] == "approve",
                    note=form.cleaned_data["note"],
                )
            else:
                raise ValidationError(_("Choose approve or reject."))
        except (ValidationError, PermissionDenied) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, text)
            status = 403 if isinstance(exc, PermissionDenied) else 400
            return _detail(request, item, form, status)
        messages.success(request, _("The decision was saved."))
        return redirect(request.path)
    return _detail(request, item, form, 200)


def _detail(
    request: AuthedRequest, item: AbsenceRequest, form: AbsenceDecisionForm, status: int
) -> HttpResponse:
    decidable = access.absence_requests_decidable_by(request.user).filter(pk=item.pk).exists()
    return render(
        request,
        "presence/absence_detail.html",
        {"item": item, "form": form, "decidable": decidable},
        status=status,
    )


@login_required
@require_GET
def absence_evidence(request: AuthedRequest, request_id: int) -> HttpResponseBase:
    """The evidence file, for those who may see the request: always a download."""
    item = access.absence_request_for_user(request.user, request_id)
    if not item.evidence:
        raise Http404(_("This request has no evidence."))
    extension = "pdf" if item.evidence_type == "application/pdf" else "jpg"
    return private_download(
        item.evidence,
        filename=f"bukti-{item.employee.nip}-{item.pk}.{extension}",
        content_type=item.evidence_type,
    )


def _add_errors(form: AbsenceForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
