"""The check-in path's own SQL and caches: the same verdicts as the ORM gave, the token
refused in every case it was refused before, and how soon an edit reaches a check-in."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tepat.accounts.models import User
from tepat.org.models import WorkSite
from tepat.presence import services
from tepat.presence.models import AppToken, CheckinEvent, PhoneDevice
from tests.presence.phone import Phone, minutes_ago
from tests.world import World

SCHOOL = (-2.4233, 101.1667)
NEW_SCHOOL = (-2.4433, 101.1667)  # about 2.2 km south: where the school moved


@pytest.fixture
def phone(world: World) -> Phone:
    p = Phone()
    assert p.login(world.teacher.nip).status_code == 200
    return p


def test_an_expired_token_is_a_401(world: World, phone: Phone) -> None:
    AppToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert phone.send(phone.checkin(*SCHOOL)).status_code == 401
    assert not CheckinEvent.objects.exists()


def test_a_revoked_phone_is_a_401(world: World, phone: Phone) -> None:
    PhoneDevice.objects.update(status=PhoneDevice.Status.REVOKED)
    assert phone.send(phone.checkin(*SCHOOL)).status_code == 401


def test_a_deactivated_account_is_a_401(world: World, phone: Phone) -> None:
    User.objects.filter(employee=world.teacher).update(is_active=False)
    assert phone.send(phone.checkin(*SCHOOL)).status_code == 401


def test_the_stored_row_matches_the_answer(world: World, phone: Phone) -> None:
    item = phone.checkin(*SCHOOL, taken_at=minutes_ago(1))
    body = phone.send(item).json()
    event = CheckinEvent.objects.get()
    assert event.pk is not None
    assert (event.idempotency_key, event.status, event.site_id) == (
        item["id"],
        body["status"],
        body["site"]["id"],
    )
    assert event.taken_at.isoformat() == body["taken_at"]
    assert event.device_taken_at == event.taken_at
    assert event.payload == item
    assert event.risk_flags == []
    assert (event.reason, event.author_id, event.corrects_id) == ("", None, None)


def test_a_batch_reusing_a_sent_sequence_number_is_flagged(world: World, phone: Phone) -> None:
    phone.send(phone.checkin(*SCHOOL, taken_at=minutes_ago(90)))
    phone.seq -= 1  # the queue starts again at a number the server has seen
    items = [
        phone.checkin(SCHOOL[0] + i * 0.00003, SCHOOL[1], taken_at=minutes_ago(60 - i))
        for i in range(2)
    ]
    items.append({**phone.checkin(*SCHOOL, taken_at=minutes_ago(30))})
    phone.seq -= 1
    again = phone.checkin(SCHOOL[0] + 0.00009, SCHOOL[1], taken_at=minutes_ago(20))
    results = phone.post("/api/v1/presence/checkins/batch", {"items": [*items, again]}).json()
    flags = [r["body"]["flags"] for r in results["results"]]
    assert ["sequence_reused" in f for f in flags] == [True, False, False, True]


def test_a_site_edited_in_the_admin_applies_at_once(world: World, phone: Phone) -> None:
    assert phone.send(phone.checkin(*SCHOOL)).status_code == 201
    site = WorkSite.objects.get(pk=world.school_site.pk)
    site.latitude, site.longitude = Decimal(str(NEW_SCHOOL[0])), Decimal(str(NEW_SCHOOL[1]))
    site.save()
    assert phone.send(phone.checkin(*NEW_SCHOOL)).status_code == 201


def test_a_site_changed_behind_the_orm_applies_within_a_minute(
    world: World, phone: Phone, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(services, "monotonic", lambda: clock[0])
    assert phone.send(phone.checkin(*SCHOOL, taken_at=minutes_ago(2))).status_code == 201
    # Another worker process, or a bulk update: no signal reaches this process's cache.
    WorkSite.objects.filter(pk=world.school_site.pk).update(
        latitude=Decimal(str(NEW_SCHOOL[0])), longitude=Decimal(str(NEW_SCHOOL[1]))
    )
    clock[0] += services.SITES_CACHE_SECONDS - 1
    assert phone.send(phone.checkin(*NEW_SCHOOL, taken_at=minutes_ago(1))).status_code == 422
    clock[0] += 2
    assert phone.send(phone.checkin(*NEW_SCHOOL)).status_code == 201
