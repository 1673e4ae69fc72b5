"""The phone app's heartbeat: on each contact with the server the app says how many check-ins
it still holds unsent, so the dashboard can count "queued offline" apart from "did nothing".

A separate endpoint, not a field of the check-in calls: the app sends it also when it has
nothing to send (opening the app, coming back online), and a check-in never waits for it."""

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from pydantic import field_validator

from tepat.api import datetime_aware
from tepat.monitor import services
from tepat.presence.auth import AppTokenAuth

router = Router(tags=["phone"])


class HeartbeatIn(Schema):
    queued: int = Field(..., ge=0, le=100_000, description="Check-ins waiting on the phone")
    oldest_queued_at: datetime | None = Field(
        None, description="When the oldest of them was taken (the phone's clock)"
    )

    _aware = field_validator("oldest_queued_at")(datetime_aware)


class HeartbeatOut(Schema):
    server_time: datetime
    queued: int


@router.post(
    "/heartbeat",
    auth=AppTokenAuth(),
    response=HeartbeatOut,
    summary="The phone reports its contact and its unsent check-ins",
)
def heartbeat(request: HttpRequest, data: HeartbeatIn) -> HeartbeatOut:
    device = request.tepat_device  # type: ignore[attr-defined]
    now = timezone.now()
    beat = services.heartbeat_record(device, data.queued, data.oldest_queued_at, now)
    return HeartbeatOut(server_time=now, queued=beat.queued)
