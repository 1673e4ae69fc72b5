"""Two-step verification for the staff roles: setting up the app, the code after the
password, recovery codes, and a reset by BKPSDM when a phone is lost."""

import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tepat.audit.models import AuditEntry
from tests.world import PASSWORD, World, login, mfa_device, totp_code

pytestmark = pytest.mark.django_db


def _password_login(client: Client, username: str, path: str = "/akun/masuk/") -> None:
    response = client.post(path, {"username": username, "password": PASSWORD})
    assert response.status_code == 302


def _code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


def test_an_operator_sets_up_the_app_at_the_first_login(world: World) -> None:
    client = Client()
    _password_login(client, "operator.dindik")
    home = client.get("/")
    assert home["Location"] == "/akun/mfa/daftar/?next=/"
    page = client.get(home["Location"])
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code, drawn by Tepat itself
    key = re.search(r'id="mfa-key">([A-Z2-7 ]+)<', html)
    assert key is not None
    assert len(key.group(1).replace(" ", "")) == 32
    device = TOTPDevice.objects.get(user=world.users["operator_opd"], confirmed=False)

    wrong = client.post("/akun/mfa/daftar/", {"code": "000000", "next": "/"})
    assert wrong.status_code == 400
    assert client.get("/")["Location"].startswith("/akun/mfa/daftar/")
    device.throttle_reset()  # django-otp makes the next try wait after a wrong code
    done = client.post("/akun/mfa/daftar/", {"code": _code_of(device), "next": "/"})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", done.content.decode())
    assert len(set(codes)) == 10
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    entry = AuditEntry.objects.get(action="mfa.enrol")
    assert entry.actor == world.users["operator_opd"]


def test_the_code_is_asked_after_the_password_and_works_once(world: World) -> None:
    operator = world.users["operator_opd"]
    code = totp_code(operator)
    client = Client()
    _password_login(client, "operator.dindik")
    assert client.get("/org/pegawai/")["Location"] == "/akun/mfa/verifikasi/?next=/org/pegawai/"
    assert client.post("/akun/mfa/verifikasi/", {"code": "123 456"}).status_code == 400
    mfa_device(operator).throttle_reset()  # django-otp waits after a wrong code
    passed = client.post("/akun/mfa/verifikasi/", {"code": code, "next": "/org/pegawai/"})
    assert passed["Location"] == "/org/pegawai/"
    assert client.get("/org/pegawai/").status_code == 200

    # Someone who watched the code being typed cannot reuse it in another session.
    other = Client()
    _password_login(other, "operator.dindik")
    assert other.post("/akun/mfa/verifikasi/", {"code": code}).status_code == 400
    assert other.get("/org/pegawai/").status_code == 302


def test_wrong_codes_are_throttled(world: World) -> None:
    operator = world.users["operator_opd"]
    mfa_device(operator)
    client = Client()
    _password_login(client, "operator.dindik")
    assert client.post("/akun/mfa/verifikasi/", {"code": "000000"}).status_code == 400
    # Right away, even the right code waits: each failure doubles the pause.
    assert (
        client.post("/akun/mfa/verifikasi/", {"code": totp_code_kept(operator)}).status_code == 400
    )


def totp_code_kept(user: object) -> str:
    """The current code without clearing the device's throttle (unlike ``totp_code``)."""
    return _code_of(TOTPDevice.objects.get(user=user, confirmed=True))


def test_a_recovery_code_replaces_the_app_once_and_is_recorded(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    codes = re.findall(
        r"<li>([a-z2-7]{8})</li>", client.post("/akun/mfa/kode-pemulihan/").content.decode()
    )
    assert len(codes) == 10
    fresh = Client()
    _password_login(fresh, "bkpsdm")
    answer = fresh.post("/akun/mfa/verifikasi/", {"code": codes[0].upper(), "next": "/admin/"})
    assert answer["Location"] == "/admin/"
    assert fresh.get("/admin/").status_code == 200
    assert AuditEntry.objects.filter(action="mfa.recovery_code_use").count() == 1
    again = Client()
    _password_login(again, "bkpsdm")
    assert again.post("/akun/mfa/verifikasi/", {"code": codes[0]}).status_code == 400
    assert "9" in client.get("/akun/mfa/kode-pemulihan/").content.decode()


def test_the_admin_login_needs_the_code_too(world: World) -> None:
    superadmin = world.users["superadmin"]
    mfa_device(superadmin)
    client = Client()
    _password_login(client, "admin", "/admin/login/?next=/admin/")
    response = client.get("/admin/accounts/user/")
    assert response["Location"].startswith("/akun/mfa/verifikasi/")
    client.post("/akun/mfa/verifikasi/", {"code": totp_code(superadmin)})
    assert client.get("/admin/accounts/user/").status_code == 200


def test_a_stolen_password_cannot_replace_the_app(world: World) -> None:
    """An enrolled person who has not entered the code is sent to the code, not to a new QR."""
    mfa_device(world.users["kepala_opd"])
    client = Client()
    _password_login(client, world.kadis.nip)
    assert client.get("/akun/mfa/daftar/")["Location"].startswith("/akun/mfa/verifikasi/")
    assert client.post("/akun/mfa/daftar/", {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=world.users["kepala_opd"], confirmed=False).count() == 0


def test_an_unverified_session_gets_403_from_the_api(world: World) -> None:
    client = login(Client(), world.users["auditor"], verified=False)
    response = client.get("/api/v1/org/employees")
    assert response.status_code == 403
    assert "detail" in response.json()


def test_asn_log_in_without_a_second_step(world: World) -> None:
    client = Client()
    _password_login(client, world.teacher.nip)
    assert client.get("/").status_code == 200
    assert client.get("/akun/mfa/daftar/").status_code == 404


def test_the_next_address_stays_on_tepat(world: World) -> None:
    operator = world.users["operator_opd"]
    client = login(Client(), operator, verified=False)
    mfa_device(operator)
    answer = client.post(
        "/akun/mfa/verifikasi/", {"code": totp_code(operator), "next": "https://judi.example/"}
    )
    assert answer["Location"] == "/"


def _reset(client: Client, *users: object) -> None:
    client.post(
        "/admin/accounts/user/",
        {"action": "mfa_reset_action", "_selected_action": [u.pk for u in users]},  # type: ignore[attr-defined]
    )


def test_bkpsdm_resets_a_lost_phone_and_it_is_audited(world: World) -> None:
    operator = world.users["operator_opd"]
    operator_session = login(Client(), operator)
    assert operator_session.get("/org/pegawai/").status_code == 200
    StaticDevice.objects.create(user=operator, name="recovery")

    _reset(login(Client(), world.users["admin_bkpsdm"]), operator)

    assert not TOTPDevice.objects.filter(user=operator).exists()
    assert not StaticDevice.objects.filter(user=operator).exists()
    entry = AuditEntry.objects.get(action="mfa.reset")
    assert entry.actor == world.users["admin_bkpsdm"]
    assert entry.object_id == str(operator.pk)
    assert entry.before == {"totp": 1, "recovery_codes": 0, "security_keys": 0}
    # The session verified with the removed app is no longer verified.
    assert operator_session.get("/org/pegawai/")["Location"].startswith("/akun/mfa/daftar/")


def test_only_a_super_administrator_resets_a_super_administrator(world: World) -> None:
    superadmin = world.users["superadmin"]
    mfa_device(superadmin)
    _reset(login(Client(), world.users["admin_bkpsdm"]), superadmin)
    assert TOTPDevice.objects.filter(user=superadmin).exists()
    _reset(login(Client(), world.users["auditor"]), world.users["operator_opd"])
    assert not AuditEntry.objects.filter(action="mfa.reset").exists()
    _reset(login(Client(), superadmin), superadmin)
    assert not TOTPDevice.objects.filter(user=superadmin).exists()
