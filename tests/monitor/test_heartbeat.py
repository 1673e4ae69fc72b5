"""The phone's heartbeat: on each contact the app says how many check-ins wait on it, and the
dashboard counts those people as "queued offline", apart from those who did nothing."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from tepat.monitor.models import PhoneHeartbeat
from tepat.presence.models import PhoneDevice
from tests.monitor.conftest import WIB
from tests.presence.phone import Phone
from tests.world import World, login

pytestmark = pytest.mark.usefixtures("schedules", "clock")

URL = "/api/v1/phone/heartbeat"
# The roles whose login is an employee's: they may hold the phone app.
PHONE_ROLES = {"asn": "teacher", "atasan": "principal", "kepala_opd": "kadis"}


def _phone(world: World, who: str) -> Phone:
    phone = Phone()
    assert phone.login(getattr(world, who).nip).status_code == 200
    return phone


@pytest.mark.parametrize("role", sorted(PHONE_ROLES))
def test_every_role_with_the_app_reports_its_queue(world: World, role: str) -> None:
    phone = _phone(world, PHONE_ROLES[role])

    response = phone.post(URL, {"queued": 2, "oldest_queued_at": "2026-11-23T07:01:00+07:00"})

    assert response.status_code == 200
    assert response.json()["queued"] == 2
    beat = PhoneHeartbeat.objects.get(employee=getattr(world, PHONE_ROLES[role]))
    assert (beat.queued, beat.contact_at) == (2, datetime(2026, 11, 23, 9, 0, tzinfo=WIB))
    assert beat.oldest_queued_at == datetime(2026, 11, 23, 7, 1, tzinfo=WIB)


@pytest.mark.parametrize(
    "role", ["anon", "asn", "operator_opd", "kepala_opd", "admin_bkpsdm", "auditor", "superadmin"]
)
def test_a_browser_session_is_no_phone(world: World, role: str) -> None:
    client = Client()
    if role != "anon":
        login(client, world.users[role])

    response = client.post(URL, {"queued": 1}, content_type="application/json")

    assert response.status_code == 401
    assert not PhoneHeartbeat.objects.exists()


def test_a_revoked_phone_is_not_heard(world: World) -> None:
    phone = _phone(world, "teacher")
    PhoneDevice.objects.filter(employee=world.teacher).update(status="revoked")

    assert phone.post(URL, {"queued": 1}).status_code == 401
    assert not PhoneHeartbeat.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"queued": -1}, {"queued": "dua"}, {}, {"queued": 1, "oldest_queued_at": "2026-11-23T07:01"}],
)
def test_bad_reports_are_refused_with_a_reason(world: World, body: dict[str, Any]) -> None:
    phone = _phone(world, "teacher")

    response = phone.post(URL, body)

    assert response.status_code == 422
    assert response.json()["detail"]
    assert not PhoneHeartbeat.objects.exists()


def test_the_queue_is_remembered_from_its_first_report_until_it_is_empty(
    world: World, clock: Any
) -> None:
    phone = _phone(world, "teacher")
    phone.post(URL, {"queued": 1})
    clock.shift(timedelta(minutes=10))
    phone.post(URL, {"queued": 3})
    beat = PhoneHeartbeat.objects.get()
    assert (beat.queued, beat.queued_since) == (3, datetime(2026, 11, 23, 9, 0, tzinfo=WIB))

    clock.shift(timedelta(minutes=5))
    phone.post(URL, {"queued": 0})

    beat.refresh_from_db()
    assert (beat.queued, beat.queued_since) == (0, None)
    assert beat.contact_at == datetime(2026, 11, 23, 9, 15, tzinfo=WIB)
    assert PhoneHeartbeat.objects.count() == 1  # one row per phone, overwritten


def _cells(client: Client) -> dict[str, int]:
    response = client.get("/pantau/data/")
    assert response.status_code == 200
    return response.json()["cells"]


def test_queued_offline_is_counted_apart_from_not_checked_in(
    world: World, punch: Callable[..., Any], clock: Any
) -> None:
    punch(world.teacher, 6, 50)
    principal = _phone(world, "principal")
    principal.post(URL, {"queued": 1, "oldest_queued_at": "2026-11-23T06:55:00+07:00"})
    client = login(Client(), world.users["admin_bkpsdm"])

    cells = _cells(client)

    dindik = world.dindik.pk
    # teacher2 did nothing; the principal's check-in waits on her phone.
    assert (cells[f"opd-{dindik}-queued"], cells[f"opd-{dindik}-not_yet"]) == (1, 2)
    assert cells["all-total-queued"] == 1
    kepala = login(Client(), world.users["kepala_opd"])
    page = kepala.get(f"/pantau/opd/{dindik}/?status=queued").content.decode()
    assert world.principal.name in page
    assert world.teacher2.name not in page
    assert "1 absen menunggu dikirim" in page

    # The queue reaches the server: she is checked in, and no longer queued.
    clock.shift(timedelta(seconds=30))
    punch(world.principal, 6, 55)
    cells = _cells(client)
    assert (cells[f"opd-{dindik}-queued"], cells[f"opd-{dindik}-checked_in"]) == (0, 2)


def test_a_queue_reported_yesterday_is_not_counted_today(world: World, clock: Any) -> None:
    principal = _phone(world, "principal")
    clock.move_to(datetime(2026, 11, 22, 18, 0, tzinfo=WIB))
    principal.post(URL, {"queued": 1})
    clock.move_to(datetime(2026, 11, 23, 9, 0, tzinfo=WIB))
    client = login(Client(), world.users["admin_bkpsdm"])

    cells = _cells(client)

    assert cells[f"opd-{world.dindik.pk}-queued"] == 0
    assert cells[f"opd-{world.dindik.pk}-not_yet"] == 4
