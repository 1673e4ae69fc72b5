"""A security key as the second factor for staff, beside the app: the whole ceremony (adding
a key, logging in with it) against a software authenticator built here with the same
primitives a key uses (a P-256 key pair, CBOR, SHA-256), and the refusals around it."""

import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp_webauthn.models import WebAuthnCredential

from tepat.accounts.models import Role
from tepat.accounts.services import mfa_reset
from tepat.audit.attempts import MFA_CODE_WRONG
from tepat.audit.models import AuditEntry
from tests.world import PASSWORD, World, login, mfa_device, totp_code

pytestmark = pytest.mark.django_db
BASE = "/akun/mfa/webauthn/"
ORIGIN = "http://testserver"


def _b64(raw: bytes) -> str:
    return urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftKey:
    """A security key in software: answers navigator.credentials.create()/get() as a real
    one would (attestation "none", user present and verified)."""

    origin: str = ORIGIN
    rp_id: str = "testserver"
    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    counter: int = 0

    def _auth_data(self, flags: int, attested: bytes = b"") -> bytes:
        self.counter += 1
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.counter) + attested

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        cose = {1: 2, 3: -7, -1: 1, -2: x, -3: y}  # EC2, ES256, P-256
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
        auth_data = self._auth_data(0x45, attested + cbor2.dumps(cose))  # UP, UV, AT
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return {
            "id": _b64(self.credential_id), "rawId": _b64(self.credential_id),
            "type": "public-key", "authenticatorAttachment": "cross-platform",
            "response": {"clientDataJSON": _b64(client_data),
                         "attestationObject": _b64(attestation), "transports": ["usb"]},
            "clientExtensionResults": {"credProps": {"rk": False}},
        }  # fmt: skip

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        auth_data = self._auth_data(0x05)  # UP, UV
        client_data = self._client_data("webauthn.get", options["challenge"])
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.private.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": _b64(self.credential_id), "rawId": _b64(self.credential_id),
            "type": "public-key", "authenticatorAttachment": "cross-platform",
            "response": {"clientDataJSON": _b64(client_data), "authenticatorData": _b64(auth_data),
                         "signature": _b64(signature), "userHandle": None},
            "clientExtensionResults": {},
        }  # fmt: skip


def _post(client: Client, step: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{BASE}{step}/", json.dumps(body or {}), content_type="application/json")


def _register(client: Client, key: SoftKey) -> Any:
    begin = _post(client, "registration/begin")
    assert begin.status_code == 200, begin.content
    return _post(client, "registration/complete", key.create(begin.json()))


def _password_login(username: str) -> Client:
    client = Client()
    assert (
        client.post("/akun/masuk/", {"username": username, "password": PASSWORD}).status_code == 302
    )
    return client


def test_an_operator_adds_a_key_and_logs_in_with_it(world: World) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    key = SoftKey()
    added = _register(login(Client(), operator), key)
    assert added.status_code == 200, added.content
    stored = WebAuthnCredential.objects.get(user=operator)
    entry = AuditEntry.objects.get(action="mfa.webauthn_add")
    assert (entry.actor, entry.after["key"]) == (operator, stored.pk)

    client = _password_login(operator.username)
    assert client.get("/org/pegawai/")["Location"].startswith("/akun/mfa/verifikasi/")
    page = client.get("/akun/mfa/verifikasi/?next=/org/pegawai/").content.decode()
    assert 'id="passkey-verification-button"' in page
    assert "/static/django_otp_webauthn/otp_webauthn_auth.js" in page  # served by Tepat
    begin = _post(client, "authentication/begin")
    assert begin.status_code == 200
    options = begin.json()
    assert options["rpId"] == "testserver"
    assert [c["id"] for c in options["allowCredentials"]] == [_b64(key.credential_id)]
    done = client.post(
        f"{BASE}authentication/complete/?next=/org/pegawai/",
        json.dumps(key.get(options)),
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["redirect_url"] == "/org/pegawai/"
    assert client.get("/org/pegawai/").status_code == 200


def test_a_forged_or_replayed_assertion_is_refused_and_audited(world: World) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    key = SoftKey()
    assert _register(login(Client(), operator), key).status_code == 200

    client = _password_login(operator.username)
    options = _post(client, "authentication/begin").json()
    impostor = SoftKey(credential_id=key.credential_id)  # same id, another private key
    refused = _post(client, "authentication/complete", impostor.get(options))
    assert refused.status_code >= 400
    assert client.get("/org/pegawai/").status_code == 302  # still not past the second step
    assert AuditEntry.objects.filter(action=MFA_CODE_WRONG, actor=operator).count() == 1

    # The challenge was spent by the failed try: the right answer to it no longer works.
    assert _post(client, "authentication/complete", key.get(options)).status_code >= 400
    # A page on another origin (phishing) gets an assertion the server refuses.
    phished = SoftKey(origin="https://tepat.example.net", private=key.private,
                      credential_id=key.credential_id)  # fmt: skip
    options = _post(client, "authentication/begin").json()
    assert _post(client, "authentication/complete", phished.get(options)).status_code >= 400
    assert client.get("/org/pegawai/").status_code == 302


def test_a_key_is_added_only_in_a_verified_staff_session(world: World) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    mfa_device(operator)
    unverified = login(Client(), operator, verified=False)
    refused = _post(unverified, "registration/begin")
    assert refused.status_code == 403
    assert refused.json()["code"] == "user_not_verified"
    asn = login(Client(), world.users[Role.ASN])
    assert _post(asn, "registration/begin").status_code == 403
    # Not before the password either: no passwordless login.
    anonymous = _post(Client(), "authentication/begin")
    assert anonymous.status_code == 403
    assert anonymous.json()["detail"].startswith("Masuk tanpa kata sandi tidak diizinkan")
    assert not WebAuthnCredential.objects.exists()


def test_recovery_codes_still_work_and_a_bkpsdm_reset_removes_the_keys(world: World) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    verified = login(Client(), operator)
    assert _register(verified, SoftKey()).status_code == 200
    recovery = StaticDevice.objects.create(user=operator, name="recovery", confirmed=True)
    recovery.token_set.create(token="abcd2345")
    client = _password_login(operator.username)
    assert client.post("/akun/mfa/verifikasi/", {"code": "ABCD-2345"}).status_code == 302
    assert client.get("/org/pegawai/").status_code == 200
    app = _password_login(operator.username)
    assert app.post("/akun/mfa/verifikasi/", {"code": totp_code(operator)}).status_code == 302

    mfa_reset(actor=world.users[Role.ADMIN_BKPSDM], user=operator, reason="HP hilang",
              ip_address=None)  # fmt: skip
    assert not WebAuthnCredential.objects.filter(user=operator).exists()
    entry = AuditEntry.objects.get(action="mfa.reset")
    assert entry.before is not None
    assert entry.before["security_keys"] == 1


def test_the_keys_page_lists_and_removes_a_key(world: World) -> None:
    operator = world.users[Role.OPERATOR_OPD]
    client = login(Client(), operator)
    assert _register(client, SoftKey()).status_code == 200
    key = WebAuthnCredential.objects.get(user=operator)
    page = client.get("/akun/mfa/kunci-keamanan/")
    assert page.status_code == 200
    assert f'value="{key.pk}"' in page.content.decode()
    other = login(Client(), world.users["operator_other"])
    assert other.post("/akun/mfa/kunci-keamanan/", {"remove": key.pk}).status_code == 404
    assert client.post("/akun/mfa/kunci-keamanan/", {"remove": key.pk}).status_code == 302
    assert not WebAuthnCredential.objects.exists()
    assert AuditEntry.objects.filter(action="mfa.webauthn_remove", actor=operator).count() == 1


def test_the_key_pages_messages_are_in_indonesian(world: World) -> None:
    """The library's browser module takes its words from this catalogue: Tepat's Indonesian."""
    client = login(Client(), world.users[Role.OPERATOR_OPD])
    catalog = client.get("/akun/mfa/webauthn/jsi18n/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Pendaftaran berhasil!" in catalog
    assert "Verifikasi dengan kunci keamanan" in catalog
