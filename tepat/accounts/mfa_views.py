"""The second-factor pages: enrolment (QR code and key), the code asked after the password,
and new recovery codes. The enforcement is ``tepat.accounts.middleware``."""

import django_otp
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp.models import Device

from tepat.accounts import mfa, services, throttle, webauthn
from tepat.accounts.models import AuthedRequest, User
from tepat.audit.attempts import MFA_CODE_WRONG, Attempt, attempt_note


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("home")


def _is_verified(request: AuthedRequest) -> bool:
    return bool(getattr(request.user, "is_verified", lambda: False)())


def _staff_only(request: AuthedRequest) -> None:
    """The second factor is for the staff roles; an ASN account has none to manage."""
    if not mfa.mfa_required(request.user):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: AuthedRequest) -> HttpResponse:
    """Set up the authenticator app. A person who already has one must verify first (a
    stolen password alone cannot replace the second factor)."""
    _staff_only(request)
    user = request.user
    if mfa.mfa_enrolled(user) and not _is_verified(request):
        return redirect(f"{reverse('accounts:mfa_verify')}?next={_next_url(request)}")
    device = services.totp_device_pending(user)
    error = ""
    if request.method == "POST":
        codes = services.mfa_enrol_confirm(
            user=user,
            device=device,
            code=request.POST.get("code", ""),
            ip_address=throttle.client_ip(request),
        )
        if codes is not None:
            device.refresh_from_db()
            django_otp.login(request, device)
            context = {"codes": codes, "next": _next_url(request), "enrolled": True}
            return render(request, "accounts/mfa_recovery_codes.html", context)
        _wrong_code_note(user, "enrol")
        error = _("That code is not right. Enter the 6 digits the app shows now.")
    context = {
        "qr": mfa.qr_data_uri(device),
        "key": mfa.manual_key(device),
        "error": error,
        "next": _next_url(request),
    }
    return render(request, "accounts/mfa_enrol.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: AuthedRequest) -> HttpResponse:
    """The code from the app (or one recovery code) after the password."""
    _staff_only(request)
    user = request.user
    if not mfa.mfa_enrolled(user):
        return redirect(f"{reverse('accounts:mfa_enrol')}?next={_next_url(request)}")
    if _is_verified(request):
        return redirect(_next_url(request))
    error = ""
    if request.method == "POST":
        device = _device_matching(user, request.POST.get("code", ""))
        if device is not None:
            django_otp.login(request, device)
            request.session.cycle_key()  # a new session id once fully logged in
            if device.name == mfa.RECOVERY_DEVICE_NAME:
                services.recovery_code_used(user=user, ip_address=throttle.client_ip(request))
            return redirect(_next_url(request))
        _wrong_code_note(user, "verify")
        error = _("That code is not right, or it was already used. Try the next code.")
    context = {"error": error, "next": _next_url(request), "has_key": webauthn.has_key(user)}
    return render(request, "accounts/mfa_verify.html", context, status=400 if error else 200)


def _wrong_code_note(user: User, step: str) -> None:
    """A wrong (or throttled, or reused) second-factor code: an audit row (one a minute)."""
    attempt_note(
        Attempt(
            action=MFA_CODE_WRONG,
            object_type=user._meta.label_lower,
            object_id=str(user.pk),
            summary=f"wrong second-factor code ({step})",
            actor=user,
        )
    )


def _device_matching(user: object, code: str) -> Device | None:
    """The confirmed device that accepts the code. Each device throttles its own failures
    (django-otp: a growing wait after each wrong code)."""
    token = mfa.code_normalise(code)
    if not token:
        return None
    with transaction.atomic():
        for device in django_otp.devices_for_user(user, confirmed=True, for_verify=True):
            allowed, _ = device.verify_is_allowed()
            if allowed and device.verify_token(token):
                return device
    return None


@login_required
@require_http_methods(["GET", "POST"])
def mfa_recovery_codes(request: AuthedRequest) -> HttpResponse:
    """How many recovery codes are left, and a fresh set on request."""
    _staff_only(request)
    user = request.user
    if not mfa.mfa_enrolled(user):
        return redirect("accounts:mfa_enrol")
    if not _is_verified(request):
        return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
    if request.method == "POST":
        codes = services.mfa_recovery_codes_renew(user=user, ip_address=throttle.client_ip(request))
        context = {"codes": codes, "next": reverse("home")}
        return render(request, "accounts/mfa_recovery_codes.html", context)
    left = {"left": mfa.recovery_codes_left(user)}
    return render(request, "accounts/mfa_recovery_codes.html", left)


@login_required
@require_http_methods(["GET", "POST"])
def mfa_keys(request: AuthedRequest) -> HttpResponse:
    """The person's security keys and passkeys: add one (in the browser, the library's
    module), remove one. Only in a verified session."""
    _staff_only(request)
    user = request.user
    if not mfa.mfa_enrolled(user):
        return redirect("accounts:mfa_enrol")
    if not _is_verified(request):
        return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
    if request.method == "POST":
        try:
            key_id = int(request.POST.get("remove", ""))
        except ValueError:
            key_id = 0
        if not services.webauthn_key_remove(
            user=user, key_id=key_id, ip_address=throttle.client_ip(request)
        ):
            raise Http404
        return redirect("accounts:mfa_keys")
    return render(request, "accounts/mfa_keys.html", {"keys": webauthn.keys_of(user)})
