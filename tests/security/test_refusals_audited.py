"""Every 403 (permission denied, the API's 403s, a failed CSRF check) and every 429 (a login
lockout, a rate limit) is a row in the audit trail — who (or, with no account, the client
address), the path, the method and the kind — with the very same answer as without the row,
and at most one row a minute per account (or address) and kind, however many come."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from tepat.accounts.models import Role
from tepat.audit.attempts import CSRF_FAILED, FORBIDDEN, LOCKED_OUT, THROTTLED
from tepat.audit.models import AuditEntry
from tests.presence.phone import Phone
from tests.world import World, login

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 2, 0, 5, tzinfo=UTC)
ATTEMPTS = "tepat.audit.attempts.AttemptAuditMiddleware"


def _rows(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def _answer(response: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body and headers, each page's CSP nonce (new on every answer) blanked."""
    body = re.sub(rb'nonce="[^"]*"', b'nonce=""', response.content)
    headers = [(k, re.sub(r"'nonce-[^']*'", "'nonce-'", v)) for k, v in response.headers.items()]
    return response.status_code, body, sorted(headers)


def _without_the_audit(settings: Any) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != ATTEMPTS]


def test_a_permission_denied_page_is_one_row_a_minute(world: World, settings: Any) -> None:
    asn = world.users[Role.ASN]
    client = login(Client(REMOTE_ADDR="203.0.113.20"), asn)
    with time_machine.travel(START, tick=False) as clock:
        first = client.get("/presensi/jadwal-khusus/")
        assert first.status_code == 403
        [row] = _rows(FORBIDDEN)
        assert (row.actor, row.ip_address) == (asn, "203.0.113.20")
        assert row.after == {"method": "GET", "path": "/presensi/jadwal-khusus/"}
        assert row.object_type == "request"

        assert client.post("/presensi/jadwal-khusus/", {}).status_code == 403
        assert len(_rows(FORBIDDEN)) == 1  # the same account and kind within the minute
        clock.move_to(START + timedelta(minutes=1))
        written = client.get("/presensi/jadwal-khusus/")
        assert len(_rows(FORBIDDEN)) == 2

        _without_the_audit(settings)
        bare = login(Client(REMOTE_ADDR="203.0.113.20"), asn).get("/presensi/jadwal-khusus/")
    assert _answer(bare) == _answer(written)
    assert first.content == written.content


def test_the_apis_403_is_a_row_and_answers_as_before(world: World, settings: Any) -> None:
    operator = world.users[Role.OPERATOR_OPD]  # an account without an employee
    with time_machine.travel(START, tick=False):
        response = login(Client(), operator).get("/api/v1/presence/today")
        assert response.status_code == 403
        [row] = _rows(FORBIDDEN)
        assert row.actor == operator
        assert row.after == {"method": "GET", "path": "/api/v1/presence/today"}

        _without_the_audit(settings)
        bare = login(Client(), operator).get("/api/v1/presence/today")
    assert _answer(bare) == _answer(response)


def _csrf_refused(ip: str) -> Any:
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=ip)
    return client.post("/akun/masuk/", {"username": "x", "password": "y"})


def test_a_failed_csrf_check_is_a_row_per_address_and_minute(settings: Any) -> None:
    with time_machine.travel(START, tick=False):
        first = _csrf_refused("198.51.100.30")
        assert first.status_code == 403
        [row] = _rows(CSRF_FAILED)
        assert (row.actor, row.ip_address) == (None, "198.51.100.30")
        assert row.after == {"method": "POST", "path": "/akun/masuk/"}
        assert "CSRF cookie not set" in row.summary
        assert not _rows(FORBIDDEN)  # the precise kind, not a second row

        for _ in range(20):  # an anonymous flood from one address: no row per request
            assert _csrf_refused("198.51.100.30").status_code == 403
        assert len(_rows(CSRF_FAILED)) == 1
        _csrf_refused("198.51.100.31")  # another address is its own row
        assert [r.ip_address for r in _rows(CSRF_FAILED)] == ["198.51.100.30", "198.51.100.31"]

        settings.CSRF_FAILURE_VIEW = "django.views.csrf.csrf_failure"  # Django's own page
        _without_the_audit(settings)
        bare = _csrf_refused("198.51.100.30")
    assert _answer(bare) == _answer(first)


def _wrong_password(ip: str) -> Any:
    return Client(REMOTE_ADDR=ip).post(
        "/akun/masuk/", {"username": "operator.dindik", "password": "bukan-ini"}
    )


def test_a_locked_out_login_is_a_row_per_address_and_minute(world: World) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(4):
            assert _wrong_password("10.20.30.40").status_code == 200
        assert not AuditEntry.objects.filter(action__startswith="refused.").exists()
        locked = _wrong_password("10.20.30.40")
        assert locked.status_code == 429
        [row] = _rows(LOCKED_OUT)
        assert (row.actor, row.ip_address) == (None, "10.20.30.40")
        assert row.after == {"method": "POST", "path": "/akun/masuk/"}
        assert not _rows(THROTTLED)

        assert _wrong_password("10.20.30.40").status_code == 429
        assert len(_rows(LOCKED_OUT)) == 1
        clock.move_to(START + timedelta(minutes=1))
        assert _wrong_password("10.20.30.40").status_code == 429
    assert len(_rows(LOCKED_OUT)) == 2


def test_the_phone_apps_lockout_is_a_row(world: World) -> None:
    phone = Phone()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            response = phone.login(world.teacher.nip, "bukan-ini")
        assert response.status_code == 429  # the fifth failure locks
        [row] = _rows(LOCKED_OUT)
        assert row.ip_address == "127.0.0.1"
        assert row.after == {"method": "POST", "path": "/api/v1/auth/token"}
        assert phone.login(world.teacher.nip).status_code == 429
        assert len(_rows(LOCKED_OUT)) == 1
        clock.move_to(START + timedelta(minutes=1))  # refused before the password is read
        assert phone.login(world.teacher.nip).status_code == 429
    assert len(_rows(LOCKED_OUT)) == 2
    assert not _rows(THROTTLED)


def test_a_rate_limited_password_reset_is_a_throttled_row(world: World, settings: Any) -> None:
    settings.PASSWORD_RESET_LIMIT_PER_IP = 1
    client = Client(REMOTE_ADDR="192.0.2.50")
    with time_machine.travel(START, tick=False):
        assert client.post("/akun/lupa-sandi/", {"username": "x"}).status_code == 302
        assert not _rows(THROTTLED)
        refused = client.post("/akun/lupa-sandi/", {"username": "x"})
        assert refused.status_code == 429
        [row] = _rows(THROTTLED)
        assert (row.actor, row.ip_address) == (None, "192.0.2.50")
        assert row.after == {"method": "POST", "path": "/akun/lupa-sandi/"}
        assert client.post("/akun/lupa-sandi/", {"username": "x"}).status_code == 429
        assert len(_rows(THROTTLED)) == 1


def test_a_flood_from_many_addresses_stops_writing_at_the_minutes_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tepat.audit.attempts.ANONYMOUS_ROWS_PER_MINUTE", 3)
    with time_machine.travel(START, tick=False) as clock:
        for last in range(10):
            assert _csrf_refused(f"198.51.100.{last}").status_code == 403
        assert len(_rows(CSRF_FAILED)) == 3
        clock.move_to(START + timedelta(minutes=1))
        assert _csrf_refused("198.51.100.9").status_code == 403
    assert len(_rows(CSRF_FAILED)) == 4
