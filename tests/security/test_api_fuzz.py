"""Schemathesis against /api/v1/openapi.json: generated input (valid and not) on every
operation, with a logged-in staff session and a phone token, never makes the API answer 500 —
nor the check-in lane that answers single check-ins ahead of Django (``tepat.wsgi``); and
without credentials every operation but the token request answers 401."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

import tepat.wsgi
from tests.presence.phone import Phone
from tests.world import World, login

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# The application Tepat serves: a single check-in with a token and no cookie is answered by
# CheckinLaneApp before Django sees it (tepat/presence/checkin_lane.py).
lane_schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", tepat.wsgi.application
).include(path="/api/v1/presence/checkins", method="POST")

PUBLIC = {("POST", "/api/v1/auth/token")}


@pytest.fixture
def credentials(world: World) -> Iterator[dict[str, str]]:
    """A staff session and a phone token. Then, for the fuzzed calls: the WSGI handler would
    close the test's database connection after each request (it is inside the test's
    transaction); Django's own test client holds it open the same way."""
    client = login(Client(), world.users["admin_bkpsdm"])
    phone = Phone()
    phone.login(world.teacher.nip)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"session": client.cookies["sessionid"].value, "token": phone.token}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,  # the same inputs on every run: CI does not flake on a new find
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_input_makes_the_api_fail(case: object, credentials: dict[str, str]) -> None:
    case.call_and_validate(  # type: ignore[attr-defined]
        headers={"Authorization": f"Bearer {credentials['token']}"},
        cookies={"sessionid": credentials["session"]},
        checks=[not_a_server_error],
    )


@pytest.mark.django_db
@lane_schema.parametrize()
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_check_in_makes_the_lane_fail(
    case: object, credentials: dict[str, str]
) -> None:
    case.call_and_validate(  # type: ignore[attr-defined]
        headers={"Authorization": f"Bearer {credentials['token']}"},  # no cookie: the lane
        checks=[not_a_server_error],
    )


@pytest.mark.django_db
def test_every_operation_but_the_token_request_needs_credentials(world: World) -> None:
    client = Client()
    operations = [
        (method.upper(), path)
        for path, items in schema.raw_schema["paths"].items()
        for method in items
    ]
    assert len(operations) > 10
    for method, path in operations:
        if (method, path) in PUBLIC:
            continue
        url = path.replace("{employee_id}", str(world.teacher.pk)).replace(
            "{site_id}", str(world.school_site.pk)
        )
        response = client.generic(method, url, "{}", content_type="application/json")
        assert response.status_code == 401, f"{method} {path}"


@pytest.mark.django_db
def test_a_check_in_with_an_absurd_phone_clock_is_refused_not_a_500(world: World) -> None:
    phone = Phone()
    phone.login(world.teacher.nip)
    item = phone.checkin(-2.4233, 101.1667)
    item["taken_at"] = "1203-02-18T14:33:05+07:00"
    item["clock"] = {
        "device_time": "5413-08-03T14:15:42+00:00",
        "server_time": "0459-02-21T17:25:40+13:00",
    }
    response = phone.send(item)
    assert response.status_code == 422
    assert "tanggal dan jam" in response.json()["detail"]


@pytest.mark.parametrize("query", ["limit=99999999999999999999", "offset=99999999999999999999"])
def test_a_page_size_or_offset_past_any_integer_is_a_422_not_a_500(
    world: World, query: str
) -> None:
    """Found by the fuzz test above: a 20-digit limit overflowed SQLite's integer."""
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.get(f"/api/v1/org/employees?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/org/employees?opd=99999999999999999999",
        "/api/v1/org/employees/99999999999999999999",
        "/api/v1/org/sites/99999999999999999999",
    ],
)
def test_an_id_past_any_database_integer_is_a_422_not_a_500(world: World, url: str) -> None:
    """Found by the fuzz test above: a 20-digit OPD id overflowed SQLite's integer."""
    client = login(Client(), world.users["admin_bkpsdm"])
    response = client.get(url)
    assert response.status_code == 422
    assert response.json()["detail"]
