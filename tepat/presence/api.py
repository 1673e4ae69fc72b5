"""e-Presensi JSON API for the phone app: token login, check-ins (single and offline batch),
and the employee's own day and month."""

import hashlib
import json
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.security import django_auth
from pydantic import ValidationError as PydanticValidationError
from pydantic import field_validator

from tepat.accounts import throttle
from tepat.accounts.models import User
from tepat.api import api, datetime_aware, field_errors
from tepat.org.models import Employee
from tepat.presence import selectors, selfies, services
from tepat.presence.auth import AppTokenAuth
from tepat.presence.models import CheckinEvent

router = Router(tags=["presence"])
auth_router = Router(tags=["auth"])

BATCH_MAX = 500


class DeviceIn(Schema):
    public_key: str = Field(..., max_length=400)
    label: str = Field("", max_length=400)


class TokenIn(Schema):
    nip: str = Field(..., max_length=32)
    password: str = Field(..., max_length=256)
    device: DeviceIn


class ClockIn(Schema):
    server_time: datetime
    device_time: datetime


class CheckinIn(Schema):
    id: UUID
    kind: Literal["in", "out"]
    taken_at: datetime
    latitude: float = Field(..., ge=-90, le=90)
    longitude: float = Field(..., ge=-180, le=180)
    accuracy_m: float = Field(..., ge=0, le=100_000)
    position_at: datetime | None = None
    seq: int | None = Field(None, ge=0, le=2**53)
    clock: ClockIn | None = None
    signature: str | None = Field(None, max_length=200)
    selfie: str | None = Field(None, max_length=2_100_000, description="JPEG or PNG, base64")

    _aware_taken_at = field_validator("taken_at", "position_at")(datetime_aware)


class MonthIn(Schema):
    year: int = Field(..., ge=2000, le=2100)
    month: int = Field(..., ge=1, le=12)


class BatchIn(Schema):
    items: list[dict[str, Any]]


def _checkin_input(data: CheckinIn, raw: dict[str, Any]) -> services.CheckinInput:
    """The service's input; the stored payload keeps the selfie's hash, not its bytes."""
    selfie = selfies.selfie_decode(data.selfie) if data.selfie else None
    if selfie is not None:
        raw = {k: v for k, v in raw.items() if k != "selfie"}
        raw["selfie_sha256"] = hashlib.sha256(selfie).hexdigest()
    return services.CheckinInput(
        key=str(data.id),
        kind=data.kind,
        device_taken_at=data.taken_at,
        latitude=data.latitude,
        longitude=data.longitude,
        accuracy_m=data.accuracy_m,
        position_at=data.position_at,
        seq=data.seq,
        clock_server_time=data.clock.server_time if data.clock else None,
        clock_device_time=data.clock.device_time if data.clock else None,
        signature=data.signature,
        selfie=selfie,
        raw=raw,
    )


def _event_body(event: CheckinEvent, now: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event.idempotency_key,
        "status": event.status,
        "kind": event.kind,
        "taken_at": event.taken_at.isoformat(),
        "site": {"id": event.site_id, "name": event.site.name} if event.site else None,
        "distance_m": None if event.distance_m is None else round(event.distance_m, 1),
        "flags": event.risk_flags,
        "message": event.message,
        "server_time": now.isoformat(),
    }
    if event.status == CheckinEvent.Status.REFUSED:
        body["detail"] = event.message
        body["code"] = "outside" if event.site_id else "invalid"
    return body


def _employee_of(request: HttpRequest) -> Employee:
    user: User = request.user  # type: ignore[assignment]
    if user.employee is None:
        raise PermissionDenied(_("This account is not an employee's account."))
    return user.employee


def _checkin_valid(raw: Any) -> CheckinIn | None:
    """A batch item validated, or None (``_checkin_one`` then says what is wrong)."""
    try:
        return CheckinIn.model_validate(raw) if isinstance(raw, dict) else None
    except PydanticValidationError:
        return None


def _checkin_one(
    ctx: services.EmployeeCheckinContext,
    raw: Any,
    now: datetime,
    data: CheckinIn | None = None,
) -> tuple[int, dict[str, Any]]:
    """One item of a single or batch request: (HTTP status, body). Never raises for input.

    ``data`` is the item already validated by the single endpoint's schema; batch items
    are validated here, one by one, so a bad one does not sink the others.
    """
    if not isinstance(raw, dict):
        return 422, {"detail": _("The request is not valid."), "code": "invalid"}
    try:
        data = data or CheckinIn.model_validate(raw)
    except PydanticValidationError as exc:
        return 422, {
            "id": raw.get("id"),
            "detail": _("The request is not valid."),
            "code": "invalid",
            "errors": field_errors(exc.errors()),
        }
    try:
        outcome = services.checkin_record(ctx, _checkin_input(data, raw), received_at=now)
    except (services.CheckinRejected, selfies.SelfieRejected) as exc:
        return 422, {"id": str(data.id), "detail": exc.message, "code": "invalid"}
    except services.IdempotencyConflict:
        return 409, {"id": str(data.id), "detail": _("This check-in id was already used.")}
    return outcome.http_status, _event_body(outcome.event, now)


@auth_router.post("/token", auth=None, summary="Log the phone app in (NIP + password)")
def token_create(request: HttpRequest, payload: TokenIn) -> HttpResponse:
    nip = payload.nip.replace(" ", "")
    if throttle.login_locked(request, nip):
        return api.create_response(request, {"detail": throttle.lockout_message()}, status=429)
    user = authenticate(request, username=nip, password=payload.password)
    if user is None or not isinstance(user, User) or user.employee is None:
        return api.create_response(request, {"detail": _("Wrong NIP or password.")}, status=401)
    throttle.login_succeeded(request, nip)
    with transaction.atomic():
        device = services.device_bind(
            employee=user.employee, public_key=payload.device.public_key, label=payload.device.label
        )
        raw, token = services.token_issue(user=user, device=device)
    body = {
        "token": raw,
        "expires_at": token.expires_at.isoformat(),
        "employee": {
            "id": user.employee.pk,
            "nip": user.employee.nip,
            "name": user.employee.full_name,
        },
        "device": {"id": device.pk, "status": device.status},
        "server_time": timezone.now().isoformat(),
    }
    return api.create_response(request, body, status=200)


@router.post("/checkins", auth=AppTokenAuth(), summary="Record one check-in from the phone")
def checkin_create(request: HttpRequest, payload: CheckinIn) -> HttpResponse:
    now = timezone.now()
    employee = _employee_of(request)
    seqs = [] if payload.seq is None else [payload.seq]
    ctx = services.checkin_context(employee, request.tepat_device, now, seqs)  # type: ignore[attr-defined]
    # The raw body too: the signature covers taken_at exactly as the phone wrote it.
    status, body = _checkin_one(ctx, json.loads(request.body), now, data=payload)
    return api.create_response(request, body, status=status)


@router.post(
    "/checkins/batch", auth=AppTokenAuth(), summary="Send a phone's offline queue (≤ 500 items)"
)
def checkin_batch(request: HttpRequest, payload: BatchIn) -> HttpResponse:
    if len(payload.items) > BATCH_MAX:
        detail = _("At most %(n)s check-ins per batch.") % {"n": BATCH_MAX}
        return api.create_response(request, {"detail": detail}, status=422)
    now = timezone.now()
    employee = _employee_of(request)
    # Oldest first, so each item's travel speed is measured against the one before it.
    items = sorted(
        payload.items, key=lambda i: str(i.get("taken_at", "")) if isinstance(i, dict) else ""
    )
    checked = [(raw, _checkin_valid(raw)) for raw in items]
    seqs = [data.seq for _raw, data in checked if data is not None and data.seq is not None]
    ctx = services.checkin_context(employee, request.tepat_device, now, seqs)  # type: ignore[attr-defined]
    results = []
    # One transaction: a single durable flush for the whole queue. A bad item is reported
    # before anything is written for it, and a replayed one is skipped by the INSERT itself,
    # so neither aborts the others.
    with transaction.atomic():
        for raw, data in checked:
            status, body = _checkin_one(ctx, raw, now, data=data)
            results.append({"id": body.get("id"), "http_status": status, "body": body})
    return api.create_response(
        request, {"results": results, "server_time": now.isoformat()}, status=200
    )


@router.get("/today", auth=[AppTokenAuth(), django_auth], summary="My attendance today")
def today(request: HttpRequest) -> dict[str, Any]:
    employee = _employee_of(request)
    return selectors.my_day(employee, timezone.now())


@router.get("/month", auth=[AppTokenAuth(), django_auth], summary="My attendance this month")
def month(request: HttpRequest, period: Query[MonthIn]) -> dict[str, Any]:
    employee = _employee_of(request)
    return {"days": selectors.my_month(employee, date(period.year, period.month, 1))}
