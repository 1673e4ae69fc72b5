"""The JSON API root under /api/v1/ and its one mapping of errors to HTTP answers."""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from tepat.rules.kinerja_policy import KinerjaPolicyError

api = NinjaAPI(
    title="Tepat API",
    version="1",
    description="e-Presensi, e-Kinerja dan e-TPP.",
    urls_namespace="api",
    auth=django_auth,
)


# The widest offset a real zone uses (UTC+14, Kiribati); PostgreSQL refuses to store wider ones.
MAX_UTC_OFFSET = timedelta(hours=14)


def datetime_aware(value: datetime | None) -> datetime | None:
    """A datetime the API accepts: with a zone, and an offset some real place uses."""
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetime")
    if abs(offset) > MAX_UTC_OFFSET:
        raise ValueError("UTC offset out of range")
    return value


def error_message(kind: str) -> str:
    """Pydantic's error type in words an operator understands (its English text is not)."""
    if kind == "missing":
        return _("This field is required.")
    if kind == "json_invalid":
        return _("The request body is not valid JSON.")
    if kind.startswith(("int_", "float_", "decimal_")):
        return _("This must be a number.")
    if kind.startswith(("date", "time")):
        return _("This must be a date/time in ISO 8601 format.")
    if kind.startswith("uuid"):
        return _("This must be a UUID.")
    if kind.startswith(("string_too_long", "too_long")):
        return _("This value is too long.")
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return _("This value is out of range.")
    return _("This value is not valid.")


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's errors as {field, message}; the field path without ninja's request parts."""
    return [
        {
            "field": ".".join(
                str(part)
                for part in err.get("loc", ())
                if part not in {"body", "query", "path", "payload"}
            ),
            "message": error_message(err.get("type", "")),
        }
        for err in errors
    ]


@api.exception_handler(NinjaValidationError)
def on_invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": _("The request is not valid."), "errors": field_errors(exc.errors)},
        status=422,
    )


@api.exception_handler(ValidationError)
def on_rejected(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": " ".join(exc.messages)}, status=422)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or _("Not found.")}, status=404)


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or _("You may not do this.")}, status=403
    )


@api.exception_handler(KinerjaPolicyError)
def on_no_policy(request: HttpRequest, exc: KinerjaPolicyError) -> HttpResponse:
    """A day before any e-Kinerja policy (a year 2000 report): the input, not the server."""
    return api.create_response(request, {"detail": str(exc)}, status=422)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": _("Please log in first.")}, status=401)


api.add_router("/org/", "tepat.org.api.router")
api.add_router("/accounts/", "tepat.accounts.api.router")
api.add_router("/auth/", "tepat.presence.api.auth_router")
api.add_router("/presence/", "tepat.presence.api.router")
api.add_router("/kinerja/", "tepat.kinerja.api.router")
api.add_router("/phone/", "tepat.monitor.api.router")
