"""Flagged check-ins wait for the supervisor or BKPSDM; second phones for the OPD operator.
Every decision is recorded with its author and reason; the event itself never changes."""

import pytest
from django.test import Client
from django.utils import timezone

from tepat.audit.models import AuditEntry
from tepat.presence.models import CheckinEvent, CheckinReview, PhoneDevice
from tests.presence.phone import Phone
from tests.world import World, login

SCHOOL = (-2.4233, 101.1667)

ROLES = [
    "asn", "atasan", "operator_opd", "kepala_opd", "admin_bkpsdm", "auditor", "superadmin",
    "operator_other",
]  # fmt: skip
MAY_DECIDE = {"atasan", "kepala_opd", "admin_bkpsdm", "superadmin"}
MAY_APPROVE_PHONE = {"operator_opd", "admin_bkpsdm", "superadmin"}


@pytest.fixture
def flagged(world: World) -> CheckinEvent:
    """The teacher checks in from a second phone: inside the fence, but into review."""
    Phone().login(world.teacher.nip)
    second = Phone()
    second.login(world.teacher.nip)
    second.send(second.checkin(*SCHOOL))
    return CheckinEvent.objects.get(status="review")


@pytest.mark.parametrize("role", ROLES)
def test_who_may_decide_on_a_flagged_check_in(
    world: World, flagged: CheckinEvent, role: str
) -> None:
    client = login(Client(), world.users[role])
    listed = str(flagged.employee.nip) in client.get("/presensi/tinjauan/").content.decode()
    response = client.post(
        "/presensi/tinjauan/", {"item": flagged.pk, "decision": "accept", "reason": "Ponsel baru"}
    )
    assert listed == (role in MAY_DECIDE)
    if role in MAY_DECIDE:
        assert response.status_code == 302
        review = CheckinReview.objects.get()
        assert (review.decision, review.reviewer) == ("accept", world.users[role])
        assert AuditEntry.objects.filter(action="checkin.review", actor=world.users[role]).exists()
    else:
        assert response.status_code == 404
        assert not CheckinReview.objects.exists()
    flagged.refresh_from_db()
    assert flagged.status == "review"  # the ledger row itself never changes


def test_a_decided_check_in_leaves_the_queue(world: World, flagged: CheckinEvent) -> None:
    client = login(Client(), world.users["atasan"])
    client.post(
        "/presensi/tinjauan/",
        {"item": flagged.pk, "decision": "reject", "reason": "Bukan ponselnya"},
    )
    assert "Tidak ada yang perlu ditinjau" in client.get("/presensi/tinjauan/").content.decode()


def test_a_decision_needs_a_reason(world: World, flagged: CheckinEvent) -> None:
    client = login(Client(), world.users["atasan"])
    response = client.post(
        "/presensi/tinjauan/", {"item": flagged.pk, "decision": "accept", "reason": ""}
    )
    assert response.status_code == 400
    assert not CheckinReview.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_who_may_approve_a_second_phone(world: World, flagged: CheckinEvent, role: str) -> None:
    pending = PhoneDevice.objects.get(status="pending")
    client = login(Client(), world.users[role])
    response = client.post(
        "/presensi/perangkat/", {"item": pending.pk, "decision": "accept", "reason": "Ganti ponsel"}
    )
    pending.refresh_from_db()
    if role in MAY_APPROVE_PHONE:
        assert response.status_code == 302
        assert pending.status == "active"
        # The old phone is revoked: still one active phone per employee.
        assert PhoneDevice.objects.filter(employee=world.teacher, status="active").count() == 1
        assert AuditEntry.objects.filter(action="device.approve").exists()
    else:
        assert response.status_code in {403, 404}
        assert pending.status == "pending"


def test_after_approval_the_new_phone_checks_in_normally(world: World) -> None:
    Phone().login(world.teacher.nip)
    second = Phone()
    second.login(world.teacher.nip)
    client = login(Client(), world.users["operator_opd"])
    pending = PhoneDevice.objects.get(status="pending")
    client.post(
        "/presensi/perangkat/", {"item": pending.pk, "decision": "accept", "reason": "Ganti"}
    )
    body = second.send(second.checkin(*SCHOOL, taken_at=timezone.now())).json()
    assert body["status"] == "accepted"
