"""Organisation pages: employees and work sites, always scoped by the access layer."""

from decimal import InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tepat.accounts import access
from tepat.accounts.models import OPD_SCOPED_ROLES, REGENCY_WIDE_ROLES, AuthedRequest
from tepat.accounts.throttle import client_ip
from tepat.org import selectors, services
from tepat.org.models import WorkSite, WorkSiteLocationChange

STAFF_VIEW_ROLES = OPD_SCOPED_ROLES | REGENCY_WIDE_ROLES


@login_required
def employee_list(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    visible = access.employees_visible_to(request.user, today)
    opds = access.opds_visible_to(request.user)
    try:
        opd_id = int(request.GET.get("opd", "") or 0)
    except ValueError:
        opd_id = 0
    rows = selectors.employees_search(
        visible, on=today, text=request.GET.get("q", "")[:64], opd_id=opd_id or None
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "org/employee_list.html",
        {"page": page, "opds": opds, "q": request.GET.get("q", ""), "opd_id": opd_id},
    )


@login_required
def employee_detail(request: AuthedRequest, employee_id: int) -> HttpResponse:
    today = timezone.localdate()
    employee = access.employee_for_user(request.user, employee_id, today)
    return render(
        request,
        "org/employee_detail.html",
        {
            "employee": employee,
            "history": selectors.employee_history(employee),
            "sites": selectors.employee_sites(employee, today),
        },
    )


@login_required
def site_list(request: AuthedRequest) -> HttpResponse:
    access.require_role(request.user, STAFF_VIEW_ROLES)
    sites = access.sites_visible_to(request.user).select_related("unit__opd")
    show = request.GET.get("tampil", "bermasalah")
    if show == "bermasalah":
        sites = selectors.sites_flagged(sites)
    page = Paginator(sites.order_by("unit__opd__name", "name"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "org/site_list.html", {"page": page, "show": show})


class SiteMoveForm(forms.Form):
    latitude = forms.DecimalField(label=gettext_lazy("Latitude"), max_digits=9, decimal_places=6)
    longitude = forms.DecimalField(label=gettext_lazy("Longitude"), max_digits=9, decimal_places=6)
    accuracy_m = forms.FloatField(label=gettext_lazy("Accuracy (m)"), required=False, min_value=0)
    method = forms.ChoiceField(
        label=gettext_lazy("How was it measured?"),
        choices=[
            (WorkSiteLocationChange.Method.PHONE, gettext_lazy("My phone, standing at the site")),
            (WorkSiteLocationChange.Method.MAP, gettext_lazy("Entered by hand")),
        ],
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea)


@login_required
@require_http_methods(["GET", "POST"])
def site_detail(request: AuthedRequest, site_id: int) -> HttpResponse:
    access.require_role(request.user, STAFF_VIEW_ROLES)
    site = access.site_for_user(request.user, site_id)
    can_move = request.user.role in access.SITE_WRITER_ROLES
    form = SiteMoveForm(request.POST or None)
    if request.method == "POST":
        access.require_site_writer(request.user, site)
        if form.is_valid():
            try:
                services.worksite_relocate(
                    actor=request.user,
                    site=site,
                    latitude=form.cleaned_data["latitude"],
                    longitude=form.cleaned_data["longitude"],
                    accuracy_m=form.cleaned_data["accuracy_m"],
                    method=form.cleaned_data["method"],
                    reason=form.cleaned_data["reason"],
                    ip_address=client_ip(request),
                )
            except (ValidationError, InvalidOperation) as exc:
                form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
            else:
                messages.success(request, _("The work site's location was saved."))
                return redirect("org:site_detail", site_id=site.pk)
        return render(
            request, "org/site_detail.html", _site_context(site, form, can_move), status=400
        )
    return render(request, "org/site_detail.html", _site_context(site, form, can_move))


def _site_context(site: WorkSite, form: SiteMoveForm, can_move: bool) -> dict[str, object]:
    return {
        "site": site,
        "form": form,
        "can_move": can_move,
        "moves": site.moves.select_related("author")[:20],
    }
