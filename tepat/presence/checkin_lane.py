"""The short lane for a single phone check-in (``POST /api/v1/presence/checkins``).

At the morning peak nearly every request Tepat serves is this one, and it needs little of
Django's request cycle: a bearer token, not a session, no CSRF (not a cookie login), no
messages, no URL routing. It is answered at two levels, by the same ``checkin_answer``:

- ``CheckinLaneApp``, the WSGI application ``tepat.wsgi`` serves, ahead of Django's whole
  request cycle (no ``HttpRequest``, middleware or response object; what the skipped
  middleware does is applied there or the request goes to Django: see its docstring);
- ``CheckinLaneMiddleware``, for the requests that reach Django (a worker's first check-in,
  a server that runs Django's bare WSGI or ASGI application, the test client).

The middleware sits in ``settings.MIDDLEWARE`` right after the
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

import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import responses
from typing import Any

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.request import split_domain_port, validate_host
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.http import http_date
from django.utils.log import log_message, request_logger
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
        answered = checkin_answer(token, request.body)
        if answered is None:
            return None
        # The full cycle's login checks read the session, so its answer varies by cookie
        # (``Vary: Cookie``, added by the session middleware on the way out): the same here.
        session = getattr(request, "session", None)
        if session is not None:
            session.accessed = True
        status, body = answered
        return api.create_response(request, body, status=status)


def checkin_answer(token: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
    """(HTTP status, body) of a plain check-in: a JSON object the schema accepts, without a
    selfie, sent with the token of an active employee's phone that is not revoked. None, with
    nothing read or written, for anything else: the caller leaves the request to the
    django-ninja operation, which says what is wrong.

    A selfie goes the full way: a refused one is noted for the audit trail by
    ``AttemptAuditMiddleware``, which a lane runs ahead of.
    """
    try:
        raw = json.loads(body)
        payload = CheckinIn.model_validate(raw) if isinstance(raw, dict) else None
    except (ValueError, PydanticValidationError):  # json.JSONDecodeError is a ValueError
        return None
    if payload is None or payload.selfie is not None:
        return None
    now = timezone.now()
    started = services.checkin_start(token[:200], now, payload.seq)
    if started is None:
        return None
    _user, _device, ctx = started
    return _checkin_one(ctx, raw, now, data=payload)


def _bearer(value: str) -> str:
    """The token of an ``Authorization: Bearer …`` header, read as django-ninja's
    ``HttpBearer`` reads it; empty if there is none."""
    scheme, _sep, token = value.partition(" ")
    return token if scheme.lower() == "bearer" else ""


# --- The same lane ahead of Django's request cycle (tepat/wsgi.py) ---------------------------

log = logging.getLogger(__name__)

# Answers whose headers the lane learns (see CheckinLaneApp): what a check-in answers.
_LEARNED_STATUSES = frozenset({200, 201, 409, 422})
_VOLATILE = frozenset({"content-length", "expires"})


@dataclass(frozen=True)
class _Headers:
    """The headers Django's full cycle put on a check-in's answer, for one (https, language):
    Content-Length and Expires are filled in per answer, the rest is copied."""

    items: tuple[tuple[str, str], ...]

    def render(self, length: int) -> list[tuple[str, str]]:
        out = []
        for name, value in self.items:
            lower = name.lower()
            if lower == "content-length":
                value = str(length)
            elif lower == "expires":
                value = http_date(time.time())  # add_never_cache_headers: now
            out.append((name, value))
        return out


class CheckinLaneApp:
    """WSGI application: the short lane ahead of Django's whole request cycle.

    ``CheckinLaneMiddleware`` still costs the cycle around it: building the ``HttpRequest``,
    the middleware that shapes every answer, the response object. This wrapper answers a plain
    valid check-in from the WSGI environ itself (``checkin_answer``, the same function) and
    hands everything else to Django's application untouched — and with it everything it
    cannot answer exactly as Django would. What the skipped middleware does to such a request
    is either checked here or makes the request fall through:

    - the host check (``ALLOWED_HOSTS``; ``CommonMiddleware``): a host Django refuses falls
      through, and Django answers its 400; so do ``X-Forwarded-Host``, ``PREPEND_WWW`` and
      ``DISALLOWED_USER_AGENTS`` when configured;
    - the HTTPS redirect (``SecurityMiddleware``): plain HTTP under ``SECURE_SSL_REDIRECT``
      falls through; whether the request is secure is read as Django reads it
      (``SECURE_PROXY_SSL_HEADER``), for the HSTS header;
    - NUL refusal (``NulRefusedMiddleware``): a body with a NUL (raw or ``\\u0000``) falls
      through; so does any query string;
    - cookies: the session, CSRF and language middleware read them; a request with any
      ``Cookie`` header falls through (the PWA sends none: ``credentials: 'omit'``);
    - the language (``LocaleMiddleware``): chosen from ``Accept-Language`` by Django's own
      ``get_language_from_request`` and activated, as the middleware does;
    - audit and rate limits: ``AttemptAuditMiddleware`` writes rows for 403/429 answers and
      noted attempts, which a lane answer never is (a selfie, whose refusal is noted, falls
      through); axes and the login throttle guard the login, not this endpoint;
    - the response headers (security headers, CSP, ``X-Frame-Options``, ``Vary``,
      ``Content-Language``, never-cache): not rebuilt from the settings here but learned from
      Django: for each (https or not, language) the first such check-in of the process goes
      through the full cycle and its answer's headers become the template of that pair's
      lane answers (Content-Length and Expires filled in per answer). They cannot drift from
      what Django would send; ``tests/presence/test_checkin_lane.py`` compares both.

    Like Django's handler it sends ``request_started`` and ``request_finished``, so database
    connections keep their lifecycle (``CONN_MAX_AGE``, closing a broken connection), logs a
    4xx answer to ``django.request`` as Django does, and activates the request's language.
    An exception in the lane is logged and the request goes to Django, which judges it again
    from the start (a check-in already stored is then answered as the replay it is): falling
    through never skips a check.
    """

    def __init__(self, application: Callable[..., Any]) -> None:
        self.application = application
        self.path = ""
        self.templates: dict[tuple[bool, str], _Headers] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == self._path():
            lane = _lane_request(environ)
            if lane is not None:
                token, body, secure, language = lane
                template = self.templates.get((secure, language))
                if template is None:
                    return self._learn((secure, language), environ, start_response)
                answer = self._answer(environ, token, body, language, template)
                if answer is not None:
                    status, headers, content = answer
                    start_response(status, headers)
                    return [content]
        return self.application(environ, start_response)

    def _path(self) -> str:
        if not self.path:
            prefix = get_script_prefix()
            self.path = "/" + reverse("api:checkin_create")[len(prefix) :]
        return self.path

    def _answer(
        self, environ: dict[str, Any], token: str, body: bytes, language: str, template: _Headers
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        signals.request_started.send(sender=WSGIHandler, environ=environ)
        try:
            translation.activate(language)  # LocaleMiddleware leaves it active as well
            answered = checkin_answer(token, body)
            if answered is None:
                return None
            code, data = answered
            content = api.renderer.render(None, data, response_status=code).encode()  # type: ignore[arg-type]
        except Exception:
            # Not a check failing open: the request goes on to Django's full cycle, which
            # judges it again from the start.
            log.warning("check-in lane failed; the request goes to Django", exc_info=True)
            return None
        finally:
            signals.request_finished.send(sender=WSGIHandler)
        reason = responses.get(code, "Unknown Status Code")
        if code >= 400:
            log_message(request_logger, "%s: %s", reason, self.path, status_code=code)
        return f"{code} {reason}", template.render(len(content)), content

    def _learn(
        self, key: tuple[bool, str], environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        """Django answers; the headers of a check-in's answer become the template of ``key``."""

        def recording(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            code = int(status.split(" ", 1)[0])
            names = {name.lower() for name, _value in headers}
            if (
                code in _LEARNED_STATUSES
                and "set-cookie" not in names
                and names >= _VOLATILE
                and dict(headers).get("Content-Type") == api.get_content_type()
            ):
                self.templates[key] = _Headers(tuple(headers))
            return start_response(status, headers, *exc_info)

        return self.application(environ, recording)


def _lane_request(environ: dict[str, Any]) -> tuple[str, bytes, bool, str] | None:
    """(token, body, https, language) of a POST to the check-in path that the lane may
    answer; None to leave it to Django. Reads the body, and puts it back for Django."""
    if (
        environ.get("SCRIPT_NAME")
        or environ.get("QUERY_STRING")
        or environ.get("HTTP_COOKIE")
        or environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip() != "application/json"
        or settings.FORCE_SCRIPT_NAME is not None
        or settings.PREPEND_WWW
        or settings.DISALLOWED_USER_AGENTS
        or is_language_prefix_patterns_used(settings.ROOT_URLCONF)[0]
    ):
        return None
    token = _bearer(environ.get("HTTP_AUTHORIZATION", ""))
    if not token or not _host_allowed(environ):
        return None
    secure = _secure(environ)
    if secure is None or (settings.SECURE_SSL_REDIRECT and not secure):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length <= 0 or (limit is not None and length > limit):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # for Django, if the lane does not answer
    if len(body) != length or b"\x00" in body or b"\\u0000" in body:
        return None
    language = translation.get_language_from_request(_AcceptLanguage(environ))  # type: ignore[arg-type]
    return token, body, secure, language


def _host_allowed(environ: dict[str, Any]) -> bool:
    """``HttpRequest.get_host`` succeeds (only the ``Host`` header: anything else falls
    through)."""
    host = environ.get("HTTP_HOST")
    if not host or (settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ):
        return False
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def _secure(environ: dict[str, Any]) -> bool | None:
    """``HttpRequest.is_secure``; None where Django would raise (a malformed setting)."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        if len(proxy) != 2:
            return None
        value = environ.get(proxy[0])
        if value is not None:
            return bool(value.split(",", 1)[0].strip() == proxy[1])
    return bool(environ.get("wsgi.url_scheme") == "https")


@dataclass(frozen=True)
class _AcceptLanguage:
    """What ``get_language_from_request`` reads of a request without cookies (path-prefixed
    languages are not in use, checked by the caller)."""

    environ: dict[str, Any]

    @property
    def COOKIES(self) -> dict[str, str]:  # HttpRequest's name
        return {}

    @property
    def META(self) -> dict[str, Any]:
        return self.environ
