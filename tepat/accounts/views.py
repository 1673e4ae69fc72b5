"""Login, logout and the home page, which shows what the user's role is for."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tepat.accounts import access, throttle
from tepat.accounts.models import OPD_SCOPED_ROLES, REGENCY_WIDE_ROLES, AuthedRequest
from tepat.audit.attempts import LOCKED_OUT, refusal_note
from tepat.org import selectors


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def login_lockout(
    request: HttpRequest, original_response: Any = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """What a locked-out login sees (django-axes's AXES_LOCKOUT_CALLABLE): the login page with
    the wait, or for the JSON API the same words as ``detail``. 429 either way, and an audit
    row (at most one a minute per client address)."""
    refusal_note(request, LOCKED_OUT, "log-in refused: locked out")
    message = throttle.lockout_message()
    if request.path.startswith(reverse("api:api-root")):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        username = (credentials or {}).get("username") or ""
        context = {
            "form": AuthenticationForm(request, initial={"username": username}),
            "lockout_message": message,
            "next": request.POST.get("next", ""),
        }
        response = render(request, "accounts/login.html", context, status=429)
    response["Retry-After"] = str(throttle.lockout_minutes() * 60)
    add_never_cache_headers(response)  # as the login page itself
    return response


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    context: dict[str, object] = {"today": today}
    if user.employee_id:
        me = selectors.employees_with_position(
            access.employees_visible_to(user, today).filter(id=user.employee_id), today
        ).first()
        context["me"] = me
        context["my_sites"] = selectors.employee_sites(me, today) if me else []
        context["subordinate_count"] = len(access.subordinate_ids(user.employee_id, today))
    if user.role in OPD_SCOPED_ROLES or user.role in REGENCY_WIDE_ROLES:
        context["counts"] = selectors.org_counts(
            access.opds_visible_to(user),
            access.units_visible_to(user),
            access.sites_visible_to(user),
            access.employees_visible_to(user, today),
        )
        context["scope_opd"] = user.opd
    return render(request, "home.html", context)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability for the load balancer; reveals nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": False}, status=503)
    return JsonResponse({"status": "ok", "database": True})
