"""The second factor, enforced for every request of a staff account (web pages, the JSON API
under a session, the Django admin): until the session is verified, pages redirect to the
code (or to enrolment) and the API answers 403.

A refused request is a ``refused.mfa_missing`` row in the audit trail (``tepat.audit.attempts``)
— except the first page after the password, which is where every login lands before its
second step (the login itself marks the session for that one request).
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from tepat.accounts import mfa
from tepat.accounts.models import User
from tepat.audit.attempts import MFA_SKIPPED, Attempt, attempt_note

JUST_LOGGED_IN = "tepat_mfa_first_stop"

# Reachable without the second factor: the steps to get it, logging out, the language, and
# the public URLs that carry no session data (machines, health, security.txt).
OPEN_PREFIXES = (
    "/akun/masuk/",
    "/akun/keluar/",
    "/akun/mfa/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/.well-known/",
    "/iclock/",
    "/mesin/fingerspot/",
)


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user: Any = request.user  # OTPMiddleware added is_verified()
        if (
            user.is_authenticated
            and mfa.mfa_required(user)
            and not user.is_verified()
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            return self._refuse(request, user)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, user: User) -> HttpResponseBase:
        is_api = request.path.startswith("/api/")
        if is_api or not request.session.pop(JUST_LOGGED_IN, False):
            attempt_note(
                Attempt(
                    action=MFA_SKIPPED,
                    object_type=user._meta.label_lower,
                    object_id=str(user.pk),
                    summary=f"{request.method} without the second step",
                    actor=user,
                )
            )
        if is_api:
            return JsonResponse(
                {"detail": _("Enter the code from your authenticator app first.")}, status=403
            )
        step = "accounts:mfa_verify" if mfa.mfa_enrolled(user) else "accounts:mfa_enrol"
        return HttpResponseRedirect(
            f"{reverse(step)}?next={quote(request.get_full_path(), safe='/')}"
        )


@receiver(user_logged_in, dispatch_uid="tepat.mfa_first_stop")
def _mfa_first_stop_mark(sender: object, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """After the password, a staff session's next page is refused as a matter of course (on
    to the second step): that one refusal is no attempt to go past it."""
    if request is not None and hasattr(request, "session") and mfa.mfa_required(user):
        request.session[JUST_LOGGED_IN] = True
