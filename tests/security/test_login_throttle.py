"""Login throttling (django-axes): five wrong passwords for one account from one address lock
that pair for 15 minutes, on the web login, the admin login and the phone app's token
endpoint alike; another address, an unlock by the super administrator or the end of the
15 minutes restores access; the logs never name the account or the address."""

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.utils import translation

from tepat.accounts import throttle
from tepat.accounts.models import RequestCount
from tests.presence.phone import Phone
from tests.world import PASSWORD, World, login

pytestmark = pytest.mark.django_db

WRONG = "salah-sekali-bukan-ini"
OFFICE = "10.20.30.40"
HOME = "10.99.0.7"
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _log_in(client: Client, username: str, password: str, ip: str = OFFICE) -> Any:
    return client.post("/akun/masuk/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client: Client, username: str, times: int, ip: str = OFFICE) -> Any:
    response = None
    for _ in range(times):
        response = _log_in(client, username, WRONG, ip)
    return response


def _locked_text(response: Any) -> str:
    with translation.override("id"):
        expected = throttle.lockout_message()
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    body = response.content.decode()
    assert expected in body
    return expected


def _logged_in(response: Any) -> bool:
    return response.status_code == 302 and response["Location"] == "/"


def test_four_wrong_passwords_still_let_the_right_one_in(world: World) -> None:
    client = Client()
    response = _fail(client, "operator.dindik", 4)
    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah" in response.content.decode()
    assert _logged_in(_log_in(client, "operator.dindik", PASSWORD))


def test_five_wrong_passwords_lock_out_even_the_right_one(world: World) -> None:
    client = Client()
    _locked_text(_fail(client, "operator.dindik", 5))

    response = _log_in(client, "operator.dindik", PASSWORD)

    _locked_text(response)
    assert "_auth_user_id" not in client.session
    # The page is still the login form, ready for when the wait is over.
    assert 'name="password"' in response.content.decode()


def _error_shown(response: Any) -> tuple[int, list[str]]:
    return response.status_code, re.findall(
        r'<p class="error"[^>]*>(.*?)</p>', response.content.decode()
    )


def test_the_lockout_does_not_tell_whether_the_account_exists(world: World) -> None:
    for times in (1, 5):
        real = _fail(Client(), "operator.dindik", times, ip=OFFICE)
        unknown = _fail(Client(), "operator.tidakada", times, ip=OFFICE)
        assert _error_shown(real) == _error_shown(unknown)
        assert real.headers.get("Retry-After") == unknown.headers.get("Retry-After")


def test_another_address_still_logs_in(world: World) -> None:
    _fail(Client(), "operator.dindik", 5, ip=OFFICE)
    assert _logged_in(_log_in(Client(), "operator.dindik", PASSWORD, ip=HOME))
    # and the locked pair stays locked
    _locked_text(_log_in(Client(), "operator.dindik", PASSWORD, ip=OFFICE))


def test_another_account_from_the_same_office_still_logs_in(world: World) -> None:
    _fail(Client(), "operator.dindik", 5)
    assert _logged_in(_log_in(Client(), "bkpsdm", PASSWORD))


def test_the_lock_ends_after_15_minutes(world: World) -> None:
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        _fail(client, "operator.dindik", 5)
        clock.shift(timedelta(minutes=10))
        # A try during the lockout is refused and does not make the wait longer.
        _locked_text(_log_in(client, "operator.dindik", WRONG))
        clock.shift(timedelta(minutes=4, seconds=59))
        _locked_text(_log_in(client, "operator.dindik", PASSWORD))
        clock.shift(timedelta(seconds=2))
        assert _logged_in(_log_in(client, "operator.dindik", PASSWORD))


def test_failures_far_apart_do_not_add_up(world: World) -> None:
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        _fail(client, "operator.dindik", 4)
        clock.shift(timedelta(minutes=16))
        _fail(client, "operator.dindik", 4)
        assert _logged_in(_log_in(client, "operator.dindik", PASSWORD))


def test_a_good_login_clears_the_count(world: World) -> None:
    client = Client()
    _fail(client, "operator.dindik", 4)
    assert _logged_in(_log_in(client, "operator.dindik", PASSWORD))
    client.post("/akun/keluar/")
    _fail(client, "operator.dindik", 4)
    assert _logged_in(_log_in(client, "operator.dindik", PASSWORD))


def test_the_super_administrator_unlocks_from_the_back_office(world: World) -> None:
    from axes.models import AccessAttempt

    _fail(Client(), "operator.dindik", 5)
    attempt = AccessAttempt.objects.get(username="operator.dindik")
    admin = login(Client(), world.users["superadmin"])

    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert _logged_in(_log_in(Client(), "operator.dindik", PASSWORD))


def test_the_admin_login_is_throttled_too(world: World) -> None:
    client = Client()
    for _ in range(5):
        response = client.post(
            "/admin/login/", {"username": "bkpsdm", "password": WRONG}, REMOTE_ADDR=OFFICE
        )
    _locked_text(response)
    response = client.post(
        "/admin/login/", {"username": "bkpsdm", "password": PASSWORD}, REMOTE_ADDR=OFFICE
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_phone_app_token_is_throttled(world: World) -> None:
    phone = Phone()
    for _ in range(4):
        assert phone.login(world.teacher.nip, WRONG).status_code == 401
    response = phone.login(world.teacher.nip, WRONG)
    assert response.status_code == 429
    assert response.json() == {"detail": throttle.lockout_message()}

    response = phone.login(world.teacher.nip)  # the right password

    assert response.status_code == 429
    assert "token" not in response.json()


def test_login_locked_and_login_succeeded_for_the_token_endpoint(world: World) -> None:
    factory = RequestFactory()

    def request(ip: str = OFFICE) -> Any:
        return factory.post("/api/v1/auth/token", REMOTE_ADDR=ip)

    nip = world.teacher.nip
    for _ in range(4):
        assert authenticate(request(), username=nip, password=WRONG) is None
    assert not throttle.login_locked(request(), nip)
    throttle.login_succeeded(request(), nip)  # a good password: the four failures are gone
    for _ in range(4):
        authenticate(request(), username=nip, password=WRONG)
    assert not throttle.login_locked(request(), nip)
    authenticate(request(), username=nip, password=WRONG)
    assert throttle.login_locked(request(), nip)
    assert not throttle.login_locked(request(HOME), nip)
    assert throttle.login_locked(request(), "nobody-at-all") is False


def test_the_logs_name_neither_the_account_nor_the_address(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    nip = world.teacher.nip
    client = Client()
    _fail(client, nip, 5)
    _log_in(client, nip, PASSWORD)
    _log_in(client, "bkpsdm", PASSWORD, ip=HOME)

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert nip not in text
    assert OFFICE not in text
    assert HOME not in text
    assert "bkpsdm" not in text
    assert PASSWORD not in text
    # Still traceable: the same keyed pseudonym in every line about this account.
    assert f"Locking out account={throttle.pseudonym('account', nip)}" in text
    assert f"client={throttle.pseudonym('ip', OFFICE)}" in text
    assert f"Successful login by account={throttle.pseudonym('account', 'bkpsdm')}" in text


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "127.0.0.9"),  # no proxy: the header is the client's own words
        (1, "6.6.6.6, 10.20.30.40", "10.20.30.40"),  # nginx appended the real peer last
        (1, "", "127.0.0.9"),
        (1, "not-an-ip", "127.0.0.9"),
        (2, "6.6.6.6, 10.20.30.40, 172.16.0.2", "10.20.30.40"),
    ],
)
def test_client_address_trusts_only_the_proxies_it_is_told_of(
    settings: Any, hops: int, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = hops
    request = RequestFactory().post(
        "/akun/masuk/", REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert throttle.client_ip(request) == expected


def test_a_forged_forwarded_for_does_not_escape_the_lock(world: World, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    for n in range(5):
        client.post(
            "/akun/masuk/",
            {"username": "operator.dindik", "password": WRONG},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, {OFFICE}",
        )
    response = client.post(
        "/akun/masuk/",
        {"username": "operator.dindik", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=f"198.51.100.1, {OFFICE}",
    )
    _locked_text(response)


def test_password_spraying_from_one_address_is_refused_whatever_the_account(
    world: World, settings: Any
) -> None:
    """A few guesses at each of many accounts never reaches the per-account limit; the
    address's failures across accounts do, on the web, the admin and the phone token."""
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        for n in range(6):  # six accounts, one wrong password each (most do not exist)
            assert _log_in(client, f"1990010120200110{n:02d}", WRONG).status_code == 200
        # The right password of an account never tried: refused like a lockout, 429.
        _locked_text(_log_in(client, "operator.dindik", PASSWORD))
        admin = client.post(
            "/admin/login/", {"username": "bkpsdm", "password": PASSWORD}, REMOTE_ADDR=OFFICE
        )
        assert admin.status_code == 429
        phone = Phone()
        phone.client.defaults["REMOTE_ADDR"] = OFFICE
        assert phone.login(world.teacher.nip).status_code == 429
        # Another address is not touched, and the next window starts afresh.
        assert _logged_in(_log_in(Client(), "operator.dindik", PASSWORD, ip=HOME))
        clock.shift(timedelta(minutes=15))
        assert _logged_in(_log_in(Client(), "operator.dindik", PASSWORD))
    # Counted under a pseudonym of the address, never the address itself.
    assert not RequestCount.objects.filter(key__contains=OFFICE).exists()
