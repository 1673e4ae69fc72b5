"""The second factor, enforced for every request of a staff account (web pages, the JSON API
under a session, the Django admin): until the session is verified, pages redirect to the
code (or to enrolment) and the API answers 403."""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from tepat.accounts import mfa
from tepat.accounts.models import User

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
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Enter the code from your authenticator app first.")}, status=403
            )
        step = "accounts:mfa_verify" if mfa.mfa_enrolled(user) else "accounts:mfa_enrol"
        return HttpResponseRedirect(
            f"{reverse(step)}?next={quote(request.get_full_path(), safe='/')}"
        )
