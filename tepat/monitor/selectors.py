"""Reads for the monitor pages that are not today's tally (see ``live``): the phone's last
contact and the site's machine, so "no signal" can be told from "not at work"."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, OuterRef, Subquery

from tepat.presence.models import CheckinEvent, PhoneDevice


@dataclass(frozen=True)
class PhoneContact:
    """What the server last heard from an employee's phone."""

    status: str
    """The phone's binding: active, or waiting for the operator's approval."""
    label: str
    last_login: datetime | None
    """The last app token issued (a login from the phone)."""
    last_checkin_received: datetime | None
    """When the server last received a check-in from this phone, refused ones included: a
    refused check-in still proves the phone reached the server."""

    @property
    def last_contact(self) -> datetime | None:
        moments = [m for m in (self.last_login, self.last_checkin_received) if m is not None]
        return max(moments) if moments else None


def phone_contacts(employee_ids: Iterable[int]) -> dict[int, PhoneContact]:
    """Each employee's current phone (active, else the newest pending) in one query.

    The server only knows a phone exists when it talks: a login or a check-in (queued offline
    ones arrive when the phone is back online). A phone that opened the app without sending
    anything leaves no trace; a heartbeat recorded by the phone API would sharpen this."""
    latest = (
        CheckinEvent.objects.filter(device=OuterRef("pk"))
        .order_by("-received_at")
        .values("received_at")[:1]
    )
    rows = (
        PhoneDevice.objects.filter(
            employee_id__in=list(employee_ids),
            status__in=[PhoneDevice.Status.ACTIVE, PhoneDevice.Status.PENDING],
        )
        .annotate(last_login=Max("tokens__created_at"), last_checkin=Subquery(latest))
        .values_list("employee_id", "status", "label", "last_login", "last_checkin", "created_at")
        .order_by("employee_id", "created_at")
    )
    found: dict[int, PhoneContact] = {}
    for employee_id, status, label, last_login, last_checkin, _created in rows:
        known = found.get(employee_id)
        if known is not None and known.status == PhoneDevice.Status.ACTIVE:
            continue  # the active phone is the one that matters
        found[employee_id] = PhoneContact(status, label, last_login, last_checkin)
    return found


@dataclass(frozen=True)
class MachineStatus:
    """A fingerprint machine at a site, as its registry reports it."""

    name: str
    online: bool
    last_contact: datetime | None


def site_machine_status(unit_ids: Iterable[int]) -> dict[int, list[MachineStatus]]:
    """The fingerprint machines serving each unit, by unit id.

    Extension point: e-Presensi has no machine registry yet. When it arrives (a model in
    ``tepat.presence`` with the machine's site and last contact), read it here in one query;
    the not-checked-in list already shows what this returns, and "no machine registered" when
    a unit has none."""
    del unit_ids
    return {}
