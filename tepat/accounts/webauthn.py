"""A security key or passkey (WebAuthn) as a second factor for staff, beside the authenticator
app, on django-otp-webauthn (a django-otp device like TOTP, so the session's "verified" state,
``MfaRequiredMiddleware`` and the recovery codes work unchanged).

Tepat narrows the library's ceremonies: a key is added only by a staff account whose session
is already verified (with the app or a recovery code: a stolen password alone never adds a
key), never as the first factor (no passwordless login), and a key is used only after the
password. The relying party is the host the browser asked for (one of ``ALLOWED_HOSTS``), the
expected origin this request's own origin: a phishing page on another host gets an assertion
the server refuses. Adding and removing a key are audited; a failed assertion is a refused
attempt (``tepat.audit.attempts``). The browser side is the library's own self-hosted module
(``script-src 'self'``, no inline script).
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from tepat.accounts import mfa, services, throttle
from tepat.accounts.models import User
from tepat.audit.attempts import MFA_CODE_WRONG, Attempt, attempt_note


def rp_id(request: HttpRequest) -> str:
    """The relying party id: the host name asked for, without a port."""
    host = request.get_host()
    if host.startswith("["):
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class TepatWebAuthnHelper(WebAuthnHelper):  # type: ignore[misc]
    def get_allowed_origins(self) -> list[str]:
        """This request's origin (its host passed ALLOWED_HOSTS), and the configured ones."""
        own = f"{self.request.scheme}://{self.request.get_host()}"
        return [own, *super().get_allowed_origins()]


def keys_of(user: User) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=user).order_by("created_at", "pk"))


def has_key(user: Any) -> bool:
    return bool(WebAuthnCredential.objects.filter(user=user, confirmed=True).exists())


class _StaffVerifiedOnly:
    """Registration: staff, with the session already past the second step."""

    request: HttpRequest

    def check_can_register(self) -> None:
        user: Any = self.request.user
        if not mfa.mfa_required(user) or not mfa.mfa_enrolled(user) or not user.is_verified():
            raise exceptions.NotVerified(
                detail=_("Verify with the authenticator app first, then add a security key.")
            )


class KeyRegistrationBegin(_StaffVerifiedOnly, BeginCredentialRegistrationView):  # type: ignore[misc]
    pass


class KeyRegistrationComplete(_StaffVerifiedOnly, CompleteCredentialRegistrationView):  # type: ignore[misc]
    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        if response.status_code == 200:
            user: Any = self.request.user
            key = WebAuthnCredential.objects.filter(user=user).order_by("-pk").first()
            if key is not None:
                services.webauthn_key_added(
                    user=user, key=key, ip_address=throttle.client_ip(self.request)
                )
        return response


class _AfterPasswordOnly:
    """Only after the password (passwordless login is off), only for a staff account."""

    request: HttpRequest

    def check_can_authenticate(self) -> None:
        user: Any = self.request.user
        if not user.is_authenticated or not user.is_active or not mfa.mfa_required(user):
            raise exceptions.PasswordlessLoginDisabled()


class KeyAuthenticationBegin(_AfterPasswordOnly, BeginCredentialAuthenticationView):  # type: ignore[misc]
    pass


class KeyAuthenticationComplete(_AfterPasswordOnly, CompleteCredentialAuthenticationView):  # type: ignore[misc]
    def handle_exception(self, exc: Exception) -> HttpResponse:
        user: Any = self.request.user
        if isinstance(exc, exceptions.OTPWebAuthnApiError) and user.is_authenticated:
            attempt_note(
                Attempt(
                    action=MFA_CODE_WRONG,
                    object_type=user._meta.label_lower,
                    object_id=str(user.pk),
                    summary=f"security key refused ({getattr(exc, 'code', 'error')})",
                    actor=user,
                )
            )
        response: HttpResponse = super().handle_exception(exc)
        return response

    def complete_auth(self, device: WebAuthnCredential) -> None:
        super().complete_auth(device)
        self.request.session.cycle_key()  # a new session id once fully logged in
