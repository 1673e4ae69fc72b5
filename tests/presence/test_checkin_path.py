"""The check-in path's own SQL and caches: the same verdicts as the ORM gave, the token
refused in every case it was refused before, and how soon an edit reaches a check-in."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tepat.accounts.models import User
from tepat.org.models import WorkSite
from tepat.presence import services
from tepat.presence.models import AppToken, CheckinEvent, PhoneDevice, PresencePolicy
from tests.presence.phone import Phone, minutes_ago
from tests.world import World

SCHOOL = (-2.4233, 101.1667)
NEW_SCHOOL = (-2.4433, 101.1667)  # about 2.2 km south: where the school moved
NEW_SCHOOL_NEAR = (-2.4234, 101.1667)  # about 11 m from SCHOOL: inside, not the same spot


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


def _days_ago(n: float) -> datetime:
    return timezone.now() - timedelta(days=n)


def test_a_position_repeated_from_three_weeks_ago_is_flagged(world: World, phone: Phone) -> None:
    old = phone.send(phone.checkin(*SCHOOL, taken_at=_days_ago(21))).json()
    assert old["flags"] == ["late_sync"]  # stored (for review): one of the employee's fixes
    body = phone.send(phone.checkin(*SCHOOL)).json()
    assert body["flags"] == ["repeated_position"]


def test_a_batch_item_repeating_a_position_from_three_weeks_ago_is_flagged(
    world: World, phone: Phone
) -> None:
    phone.send(phone.checkin(*SCHOOL, taken_at=_days_ago(21)))
    items = [phone.checkin(*SCHOOL, taken_at=minutes_ago(5))]
    results = phone.post("/api/v1/presence/checkins/batch", {"items": items}).json()
    assert results["results"][0]["body"]["flags"] == ["repeated_position"]


def test_fixes_older_than_the_window_are_not_compared(world: World, phone: Phone) -> None:
    """The risk checks read the employee's fixes of the last 31 days
    (checkin_sql._recent_window): a position repeated from six weeks ago is not flagged."""
    phone.send(phone.checkin(*SCHOOL, taken_at=_days_ago(42)))
    assert phone.send(phone.checkin(*SCHOOL)).json()["flags"] == []


def test_a_sequence_number_used_months_ago_is_still_flagged(world: World, phone: Phone) -> None:
    """The replay guard reads the phone's whole history, not a window."""
    phone.send(phone.checkin(*SCHOOL, taken_at=_days_ago(100)))
    phone.seq -= 1
    body = phone.send(phone.checkin(*NEW_SCHOOL_NEAR)).json()
    assert body["flags"] == ["sequence_reused"]


def test_a_policy_tolerating_check_ins_more_than_a_day_ahead_is_refused() -> None:
    policy = PresencePolicy(**{**services.DEFAULT_POLICY, "valid_from": date(2026, 1, 1)})
    policy.future_tolerance_s = 86400
    policy.clean_fields()
    policy.future_tolerance_s = 86401
    with pytest.raises(ValidationError) as raised:
        policy.clean_fields()
    assert "future_tolerance_s" in raised.value.message_dict
