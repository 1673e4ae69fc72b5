"""The short lane for a single phone check-in (``POST /api/v1/presence/checkins``).

At the morning peak nearly every request Tepat serves is this one, and it needs little of
Django's request cycle: a bearer token, not a session, no CSRF (not a cookie login), no
messages, no URL routing. This middleware sits in ``settings.MIDDLEWARE`` right after the
ones that shape every answer (security headers, CSP, language, NUL refusal, host check) and
answers a plain, valid check-in itself with the API's own functions: the same service calls
(``services.checkin_start``, then ``api._checkin_one``), the same JSON rendering
(``api.create_response``), and the headers of the middleware it skips (X-Frame-Options;
``Vary: Cookie``), so the answer is the one the full cycle gives, header for header
(tests/presence/test_checkin_lane.py). Everything else (an unknown or expired token, a body
that is not a valid check-in, an account without an employee, another path or method) goes on
down the normal stack to the django-ninja operation, which answers exactly as before, with
its validation messages, and which stays the OpenAPI schema's entry for the URL.

Measured in docs/performance.md ("What changed on the check-in path").
"""

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.urls import reverse
from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError

from tepat.api import api
from tepat.presence import services
from tepat.presence.api import CheckinIn, _checkin_one


class CheckinLaneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.xframe = XFrameOptionsMiddleware(get_response)
        self.path = ""

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST":
            if not self.path:
                self.path = reverse("api:checkin_create")
            if request.path == self.path:
                response = self._checkin(request)
                if response is not None:
                    return self.xframe.process_response(request, response)
        return self.get_response(request)

    def _checkin(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a plain check-in, or None to leave the request to the API."""
        token = _bearer(request.META.get("HTTP_AUTHORIZATION", ""))
        if not token or not (request.content_type or "").startswith("application/json"):
            return None
        try:
            raw = json.loads(request.body)
            payload = CheckinIn.model_validate(raw) if isinstance(raw, dict) else None
        except (ValueError, PydanticValidationError):  # json.JSONDecodeError is a ValueError
            return None
        if payload is None:
            return None
        now = timezone.now()
        started = services.checkin_start(token[:200], now, payload.seq)
        if started is None:
            return None
        user, device, ctx = started
        request.user = user
        # The full cycle's login checks read the session, so its answer varies by cookie
        # (``Vary: Cookie``, added by the session middleware on the way out): the same here.
        session = getattr(request, "session", None)
        if session is not None:
            session.accessed = True
        request.tepat_device = device  # type: ignore[attr-defined]
        status, body = _checkin_one(ctx, raw, now, data=payload)
        return api.create_response(request, body, status=status)


def _bearer(value: str) -> str:
    """The token of an ``Authorization: Bearer …`` header, read as django-ninja's
    ``HttpBearer`` reads it; empty if there is none."""
    scheme, _sep, token = value.partition(" ")
    return token if scheme.lower() == "bearer" else ""
