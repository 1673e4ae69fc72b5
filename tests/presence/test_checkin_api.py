"""Phone check-ins through the API: the server judges the place, keeps every attempt, and
never stores the same check-in twice."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tepat.accounts.models import User
from tepat.presence.models import CheckinEvent, PhoneDevice, PresencePolicy
from tests.presence.phone import Phone, minutes_ago
from tests.world import PASSWORD, World

SCHOOL = (-2.4233, 101.1667)
OFFICE = (-2.535230, 101.111113)  # Kantor Dinas Pendidikan: the teacher's alternative site
FAR = (-2.4233 + 0.0108, 101.1667)  # about 1.2 km north of the school


@pytest.fixture
def colleague(world: World) -> Phone:
    """The teacher's colleague at the same school, with an account of his own."""
    User.objects.create_user(
        username=world.teacher2.nip, password=PASSWORD, role="asn", employee=world.teacher2
    )
    return Phone()


@pytest.fixture
def phone(world: World) -> Phone:
    p = Phone()
    assert p.login(world.teacher.nip).status_code == 200
    return p


def test_wrong_password_is_refused_in_indonesian(world: World) -> None:
    response = Phone().login(world.teacher.nip, "bukan-sandinya")
    assert response.status_code == 401
    assert response.json() == {"detail": "NIP atau kata sandi salah."}


def test_first_phone_is_bound_and_a_second_waits_for_approval(world: World) -> None:
    first, second = Phone(), Phone()
    assert first.login(world.teacher.nip).json()["device"]["status"] == "active"
    assert second.login(world.teacher.nip).json()["device"]["status"] == "pending"
    assert PhoneDevice.objects.filter(employee=world.teacher, status="active").count() == 1


def test_check_in_at_the_school_is_accepted(world: World, phone: Phone) -> None:
    response = phone.send(phone.checkin(*SCHOOL))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "accepted"
    assert body["site"]["name"] == world.school_site.name
    event = CheckinEvent.objects.get()
    assert event.employee == world.teacher
    assert event.site == world.school_site
    assert event.source == "phone"


def test_replaying_the_same_id_stores_nothing_new(world: World, phone: Phone) -> None:
    item = phone.checkin(*SCHOOL)
    first = phone.send(item)
    again = phone.send(item)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert CheckinEvent.objects.count() == 1


def test_outside_every_site_is_refused_with_the_distance_and_kept(
    world: World, phone: Phone
) -> None:
    response = phone.send(phone.checkin(*FAR))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "outside"
    assert body["detail"] == "Anda berada 1,2 km dari SD Negeri 01 Lubuk Pinang; batas 100 m"
    event = CheckinEvent.objects.get()
    assert event.status == "refused"
    assert event.distance_m is not None
    assert event.distance_m > 1000


def test_the_alternative_site_counts(world: World, phone: Phone) -> None:
    response = phone.send(phone.checkin(*OFFICE))
    assert response.status_code == 201
    assert response.json()["site"]["name"] == world.office_site.name


def test_a_forged_signature_is_refused(world: World, phone: Phone) -> None:
    item = phone.checkin(*SCHOOL)
    item["latitude"] = SCHOOL[0] + 0.00001  # moved after signing
    response = phone.send(item)
    assert response.status_code == 422
    assert "tidak ditandatangani" in response.json()["detail"]
    assert CheckinEvent.objects.get().status == "refused"


def test_a_check_in_in_the_future_is_refused(world: World, phone: Phone) -> None:
    response = phone.send(phone.checkin(*SCHOOL, taken_at=timezone.now() + timedelta(hours=2)))
    assert response.status_code == 422
    assert "masa depan" in response.json()["detail"]


def test_late_offline_check_in_goes_to_review(world: World, phone: Phone) -> None:
    response = phone.send(phone.checkin(*SCHOOL, taken_at=timezone.now() - timedelta(days=4)))
    assert response.status_code == 201
    assert response.json()["status"] == "review"
    assert "late_sync" in response.json()["flags"]


def test_a_second_phone_checks_in_only_into_review(world: World, phone: Phone) -> None:
    other = Phone()
    other.login(world.teacher.nip)
    body = other.send(other.checkin(*SCHOOL)).json()
    assert body["status"] == "review"
    assert "device_not_approved" in body["flags"]


def test_phone_shared_by_two_employees_is_flagged(
    world: World, phone: Phone, colleague: Phone
) -> None:
    # The colleague logs in on the teacher's phone (same key) to check in for himself.
    colleague.key = phone.key
    colleague.login(world.teacher2.nip)
    body = colleague.send(colleague.checkin(*SCHOOL)).json()
    assert body["status"] == "review"
    assert "shared_device" in body["flags"]


def test_phone_clock_is_anchored_to_the_server(world: World, phone: Phone) -> None:
    now = timezone.now()
    slow_by = timedelta(minutes=20)
    item = phone.checkin(
        *SCHOOL,
        taken_at=now - slow_by,
        clock={"server_time": now.isoformat(), "device_time": (now - slow_by).isoformat()},
    )
    body = phone.send(item).json()
    assert "clock_skew" in body["flags"]
    event = CheckinEvent.objects.get()
    assert abs(event.taken_at - now) < timedelta(seconds=1)
    assert abs(event.device_taken_at - (now - slow_by)) < timedelta(seconds=1)


def test_impossible_travel_is_flagged(world: World, phone: Phone) -> None:
    phone.send(phone.checkin(*OFFICE, taken_at=minutes_ago(5), kind="out"))
    body = phone.send(phone.checkin(*SCHOOL)).json()  # 14 km in 5 minutes
    assert "impossible_speed" in body["flags"]


def test_no_token_is_a_401(world: World) -> None:
    response = Phone().send({"id": "x"})
    assert response.status_code == 401


def test_another_employees_id_is_a_conflict(world: World, phone: Phone, colleague: Phone) -> None:
    item = phone.checkin(*SCHOOL)
    phone.send(item)
    colleague.login(world.teacher2.nip)
    response = colleague.send(colleague.checkin(*SCHOOL, id=item["id"]))
    assert response.status_code == 409
    assert CheckinEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latitude": 91}, "latitude"),
        ({"kind": "lunch"}, "kind"),
        ({"taken_at": "2026-11-23T07:30:00"}, "taken_at"),  # no time zone
        ({"id": "not-a-uuid"}, "id"),
        ({"accuracy_m": -3}, "accuracy_m"),
    ],
)
def test_bad_fields_are_a_422_in_indonesian(
    world: World, phone: Phone, change: dict, field: str
) -> None:
    response = phone.send({**phone.checkin(*SCHOOL), **change})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Permintaan tidak valid."
    assert field in [e["field"] for e in body["errors"]]
    assert not CheckinEvent.objects.exists()


def test_malformed_json_is_a_422(world: World, phone: Phone) -> None:
    response = phone.client.post(
        "/api/v1/presence/checkins",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {phone.token}"},
    )
    assert response.status_code in {400, 422}
    assert "detail" in response.json()


def test_batch_stores_the_good_and_reports_each_bad_item(world: World, phone: Phone) -> None:
    # Real GPS jitters by a few metres between fixes.
    good = [
        phone.checkin(SCHOOL[0] + i * 0.00003, SCHOOL[1], taken_at=minutes_ago(60 - i))
        for i in range(3)
    ]
    outside = phone.checkin(*FAR, taken_at=minutes_ago(30))
    broken = {**phone.checkin(*SCHOOL), "latitude": "utara"}
    response = phone.post("/api/v1/presence/checkins/batch", {"items": [*good, outside, broken]})
    assert response.status_code == 200
    by_id = {r["id"]: r for r in response.json()["results"]}
    assert [by_id[i["id"]]["http_status"] for i in good] == [201, 201, 201]
    assert by_id[outside["id"]]["http_status"] == 422
    assert by_id[broken["id"]]["http_status"] == 422
    assert CheckinEvent.objects.filter(status="accepted").count() == 3
    assert CheckinEvent.objects.filter(status="refused").count() == 1
    # The phone resends the whole queue after a lost response: nothing new is stored.
    phone.post("/api/v1/presence/checkins/batch", {"items": [*good, outside]})
    assert CheckinEvent.objects.count() == 4


def test_a_backlog_of_500_is_accepted(world: World, phone: Phone) -> None:
    start = timezone.now() - timedelta(days=2)
    items = [
        phone.checkin(*SCHOOL, taken_at=start + timedelta(minutes=i), accuracy=10 + i % 7)
        for i in range(500)
    ]
    response = phone.post("/api/v1/presence/checkins/batch", {"items": items})
    assert response.status_code == 200
    assert {r["http_status"] for r in response.json()["results"]} == {201}
    assert CheckinEvent.objects.count() == 500


def test_batch_over_the_limit_is_refused_whole(world: World, phone: Phone) -> None:
    response = phone.post("/api/v1/presence/checkins/batch", {"items": [{}] * 501})
    assert response.status_code == 422
    assert "500" in response.json()["detail"]


def test_today_shows_my_check_ins_and_sites(world: World, phone: Phone) -> None:
    phone.send(phone.checkin(*SCHOOL))
    body = phone.get("/api/v1/presence/today").json()
    assert [e["status"] for e in body["events"]] == ["accepted"]
    assert {s["name"] for s in body["sites"]} == {world.school_site.name, world.office_site.name}
    assert body["summary"].startswith("Sudah absen masuk")
    month = phone.get(
        f"/api/v1/presence/month?year={timezone.localdate().year}&month={timezone.localdate().month}"
    )
    assert month.json()["days"][0]["events"] == 1


def test_check_in_body_is_kept_as_received(world: World, phone: Phone) -> None:
    item = phone.checkin(*SCHOOL)
    phone.send(item)
    assert CheckinEvent.objects.get().payload == json.loads(json.dumps(item))


def test_with_no_policy_row_the_documented_default_applies(world: World, phone: Phone) -> None:
    PresencePolicy.objects.all().delete()
    response = phone.send(phone.checkin(*FAR))
    assert response.status_code == 422
    assert response.json()["detail"].endswith("batas 100 m")  # the default radius


def test_a_reused_device_sequence_number_is_flagged(world: World, phone: Phone) -> None:
    first = phone.send(phone.checkin(*SCHOOL, taken_at=minutes_ago(30)))
    assert first.json()["flags"] == []
    phone.seq -= 1  # the next check-in carries the same sequence number again
    second = phone.send(phone.checkin(SCHOOL[0] + 0.00004, SCHOOL[1]))
    assert "sequence_reused" in second.json()["flags"]
