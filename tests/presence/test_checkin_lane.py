"""The short lane for a single check-in answers exactly what the full request cycle and the
django-ninja operation answer (status, body, headers), in two statements, and survives a
dropped database connection without the per-request health check."""

import uuid
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from tepat.accounts.models import User
from tepat.presence.models import CheckinEvent
from tests.presence.phone import Phone, minutes_ago
from tests.world import PASSWORD, World

LANE = "tepat.presence.checkin_lane.CheckinLaneMiddleware"
SCHOOL = (-2.4233, 101.1667)
FAR = (-2.4233 + 0.0108, 101.1667)


@pytest.fixture
def phone(world: World) -> Phone:
    p = Phone()
    assert p.login(world.teacher.nip).status_code == 200
    return p


def _without_lane() -> Any:
    return override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != LANE])


def _answer(response: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = response.json()
    for volatile in ("server_time", "id", "taken_at"):
        body.pop(volatile, None)
    # Content-Length follows the body; Expires is the moment of the answer.
    headers = {
        k: "…" if k == "Expires" else v
        for k, v in response.headers.items()
        if k != "Content-Length"
    }
    return response.status_code, body, headers


def _twice(phone: Phone, make: Any, other: Phone | None = None) -> tuple[Any, Any]:
    """The same kind of request through the lane (from ``phone``) and through the full stack
    (from ``other``, or ``phone`` again)."""
    with_lane = make(phone)
    other = other or phone
    with _without_lane():
        other.client = type(other.client)()  # a client that loads the changed middleware
        without = make(other)
    return with_lane, without


@pytest.fixture
def colleague(world: World) -> Phone:
    """The teacher's colleague at the same school: the same answers, his own first check-in."""
    User.objects.create_user(
        username=world.teacher2.nip, password=PASSWORD, role="asn", employee=world.teacher2
    )
    p = Phone()
    assert p.login(world.teacher2.nip).status_code == 200
    return p


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.send(p.checkin(*SCHOOL)), id="accepted"),
        pytest.param(lambda p: p.send(p.checkin(*FAR)), id="outside"),
        pytest.param(lambda p: p.send({**p.checkin(*SCHOOL), "latitude": 91}), id="invalid"),
        pytest.param(lambda p: p.send({**p.checkin(*SCHOOL), "signature": "AAAA"}), id="unsigned"),
        pytest.param(lambda p: Phone().send(p.checkin(*SCHOOL)), id="no-token"),
        pytest.param(
            lambda p: p.client.post(
                "/api/v1/presence/checkins",
                "{not json",
                content_type="application/json",
                headers={"Authorization": f"Bearer {p.token}"},
            ),
            id="not-json",
        ),
    ],
)
def test_the_lane_answers_as_the_full_stack(
    world: World, phone: Phone, colleague: Phone, make: Any
) -> None:
    with_lane, without = _twice(phone, make, colleague)
    lane_answer, full_answer = _answer(with_lane), _answer(without)
    assert lane_answer[:2] == full_answer[:2]
    assert lane_answer[2] == full_answer[2]
    assert with_lane["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in with_lane
    assert with_lane["Content-Language"] == "id"


def test_a_replay_answers_as_the_full_stack(world: World, phone: Phone) -> None:
    item = phone.checkin(*SCHOOL)
    assert phone.send(item).status_code == 201
    with_lane, without = _twice(phone, lambda p: p.send(item))
    assert with_lane.status_code == 200
    assert _answer(with_lane) == _answer(without)
    assert CheckinEvent.objects.count() == 1


def test_english_is_answered_in_english(world: World, phone: Phone) -> None:
    response = phone.client.post(
        "/api/v1/presence/checkins",
        {**phone.checkin(*SCHOOL), "signature": "AAAA"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {phone.token}", "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "The check-in is not signed by this phone's key."
    assert response["Content-Language"] == "en"


def test_a_check_in_is_one_read_and_one_insert(
    world: World, phone: Phone, django_assert_num_queries: Any
) -> None:
    assert phone.send(phone.checkin(*SCHOOL, taken_at=minutes_ago(30))).status_code == 201
    with django_assert_num_queries(2):  # the sites are cached now, as at the morning peak
        assert phone.send(phone.checkin(SCHOOL[0] + 0.0002, SCHOOL[1])).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_reopened_without_a_health_check(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: a server-side connection to drop")
    phone = Phone()
    assert phone.login(world.teacher.nip).status_code == 200
    assert phone.send(phone.checkin(*SCHOOL)).status_code == 201
    pid = connection.connection.info.backend_pid
    import psycopg

    params = connection.get_connection_params()
    params.pop("context", None)
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    item = phone.checkin(SCHOOL[0] + 0.0001, SCHOOL[1], id=str(uuid.uuid4()))
    assert phone.send(item).status_code == 201
    assert CheckinEvent.objects.count() == 2
