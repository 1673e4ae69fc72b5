"""Selfies: only real JPEG/PNG, re-encoded without metadata, stored privately, and handed out
only as a download to the employee and those who may review them."""

import base64
import io
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

from tepat.presence.models import CheckinEvent, PresencePolicy
from tests.presence.phone import Phone
from tests.world import World, login

SCHOOL = (-2.4233, 101.1667)


@pytest.fixture(autouse=True)
def private_storage(settings: object, tmp_path: Path) -> Path:
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    return tmp_path


def _jpeg_with_gps_exif() -> bytes:
    image = Image.new("RGB", (1600, 1200), (30, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "PabrikPonsel"  # Make
    exif[0x9286] = "lokasi rahasia"  # UserComment
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def phone(world: World) -> Phone:
    p = Phone()
    p.login(world.teacher.nip)
    return p


def test_selfie_is_reencoded_without_metadata(
    world: World, phone: Phone, private_storage: Path
) -> None:
    original = _jpeg_with_gps_exif()
    response = phone.send(phone.checkin(*SCHOOL, selfie_bytes=original))
    assert response.status_code == 201
    event = CheckinEvent.objects.get()
    stored = (private_storage / event.selfie).read_bytes()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 1024
        assert not image.getexif()
    assert "selfie" not in event.payload
    assert len(event.payload["selfie_sha256"]) == 64


@pytest.mark.parametrize(
    "payload",
    [
        b"<html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"\xff\xd8\xff\xe0<?php system($_GET['c']); ?>",  # PHP behind a JPEG magic number
        b"GIF89a" + b"\x00" * 64,
    ],
    ids=["html", "svg", "php-as-jpeg", "gif"],
)
def test_anything_but_a_real_photo_is_refused_and_nothing_stored(
    world: World, phone: Phone, private_storage: Path, payload: bytes
) -> None:
    response = phone.send(phone.checkin(*SCHOOL, selfie_bytes=payload))
    assert response.status_code == 422
    assert "JPEG atau PNG" in response.json()["detail"]
    assert not CheckinEvent.objects.exists()
    assert not any(private_storage.rglob("*.*"))


def test_oversized_selfie_is_refused(world: World, phone: Phone) -> None:
    response = phone.send(phone.checkin(*SCHOOL, selfie_bytes=b"\xff\xd8" + b"0" * 1_600_000))
    assert response.status_code == 422
    assert not CheckinEvent.objects.exists()


def test_policy_can_require_a_selfie(world: World, phone: Phone) -> None:
    PresencePolicy.objects.update(selfie_required=True)
    response = phone.send(phone.checkin(*SCHOOL))
    assert response.status_code == 422
    assert "Swafoto wajib" in response.json()["detail"]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("anon", False),
        ("asn", True),  # her own
        ("superadmin", True),
        ("atasan", True),
        ("kepala_opd", True),
        ("admin_bkpsdm", True),
        ("operator_opd", False),
        ("auditor", False),
        ("operator_other", False),
    ],
)
def test_selfie_is_a_download_for_reviewers_only(
    world: World, phone: Phone, role: str, allowed: bool
) -> None:
    phone.send(phone.checkin(*SCHOOL, selfie_bytes=_jpeg_with_gps_exif()))
    event = CheckinEvent.objects.get()
    client = Client() if role == "anon" else login(Client(), world.users[role])
    response = client.get(f"/presensi/swafoto/{event.pk}/")
    if not allowed:
        assert response.status_code in {302, 404}  # anonymous: to the login page
        assert response.get("Content-Type") != "image/jpeg"
        return
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/jpeg"
