"""The phone app's shell: the page, its service worker and its manifest.

The shell is public and holds no data; everything personal comes from the API with the
app's token. The service worker is served from /app/ so its scope can be /app/.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from tepat import list_filters
from tepat.accounts import access
from tepat.accounts.models import AuthedRequest
from tepat.presence import exports, selectors, services
from tepat.uploads import private_download

STATIC = Path(__file__).resolve().parent / "static" / "presence"


@require_GET
def app_shell(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "presence/app.html",
        {
            "api_base": "/api/v1",
            "sw_url": "/app/sw.js",
            "manifest_url": "/app/manifest.webmanifest",
        },
    )


@require_GET
def service_worker(request: HttpRequest) -> FileResponse:
    response = FileResponse((STATIC / "sw.js").open("rb"), content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/app/"
    response["Cache-Control"] = "no-cache"  # a new version must reach phones at once
    return response


@require_GET
def manifest(request: HttpRequest) -> FileResponse:
    return FileResponse(
        (STATIC / "manifest.webmanifest").open("rb"), content_type="application/manifest+json"
    )


class DecisionForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


def _decision_page(
    request: AuthedRequest,
    pending: QuerySet[Any],
    template: str,
    decide: Callable[[Any, bool, str], object],
) -> HttpResponse:
    """A queue of items with accept/reject and a reason: list on GET, one decision on POST.

    The item is looked up in ``pending`` (already scoped to the user), so an id from outside
    the user's queue is a 404, never a decision.
    """
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, template, {"items": pending[:200], "form": form}, status=400)
        item = get_object_or_404(pending, pk=form.cleaned_data["item"])
        decide(item, form.cleaned_data["decision"] == "accept", form.cleaned_data["reason"])
        messages.success(request, _("The decision was saved."))
        return redirect(request.path)
    return render(request, template, {"items": pending[:200], "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def review_list(request: AuthedRequest) -> HttpResponse:
    """Flagged check-ins waiting for a decision by the supervisor or BKPSDM."""
    pending = selectors.checkins_awaiting_review(access.employees_reviewable_by(request.user))
    return _decision_page(
        request,
        pending,
        "presence/review_list.html",
        lambda event, accept, reason: services.checkin_review(
            actor=request.user, event=event, accept=accept, reason=reason
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def device_list(request: AuthedRequest) -> HttpResponse:
    """Phones waiting for the OPD operator's approval (an employee's second phone)."""
    access.require_role(request.user, access.DEVICE_APPROVER_ROLES)
    pending = selectors.devices_pending(access.employees_device_approvable_by(request.user))
    return _decision_page(
        request,
        pending,
        "presence/device_list.html",
        lambda device, accept, reason: services.device_decide(
            actor=request.user, device=device, approve=accept, reason=reason
        ),
    )


@login_required
@require_GET
def selfie_download(request: AuthedRequest, event_id: int) -> HttpResponseBase:
    """A check-in selfie, for its owner and those who may review them: always a download,
    never rendered inline, so a crafted image can never act as a page."""
    events = selectors.checkins_with_selfie(
        access.employees_reviewable_by(request.user), own_employee_id=request.user.employee_id
    )
    event = get_object_or_404(events, pk=event_id)
    return private_download(
        event.selfie,
        filename=f"swafoto-{event.employee.nip}-{event.taken_at:%Y%m%d-%H%M}.jpg",
        content_type="image/jpeg",
    )


@login_required
@require_GET
def recap(request: AuthedRequest) -> HttpResponse:
    """The month's attendance recap (rekap kehadiran) for the people the user may see, a page
    of them at a time: only the page's people are counted. Every row is in the XLSX, which
    the worker builds (``tepat.exports``)."""
    first = list_filters.month_param(request, timezone.localdate())
    opds = access.opds_visible_to(request.user)
    opd = list_filters.opd_param(request, opds)
    employees = exports.recap_employees(request.user, first, opd)
    page = list_filters.page_of(request, employees.order_by(*selectors.RECAP_ORDER))
    return render(
        request,
        "presence/recap.html",
        {
            "rows": selectors.attendance_recap(list(page.object_list), first),
            "page": page,
            "first": first,
            "opds": opds,
            "opd": opd,
            "codes": selectors.RECAP_CODES,
        },
    )
